// Pushing through the real integration actor in virtual time (actors/integration_push.cpp),
// against a fake vendor: what the engine does around a writer — the retry policy's backoff and
// a 429's Retry-After with the same idempotency key, the shared pacing, an item left `sending`
// by a stop resumed (the same key again; for Sage a lookup first), items in seq order with an
// invoice waiting for its customer's vendor id, and failed items in the status until a
// corrected push supersedes them.
#include <optional>

#include "connectors/registry.hpp"
#include "tests/actor_world.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

namespace {

// A vendor that records every request. Writes (POST/PUT) take the scripted answers first, then
// succeed with a new record; reads take theirs, then an empty list (the streams a run reads
// after its pushes, a lookup that finds nothing).
class vendor_transport final : public http_transport {
 public:
  explicit vendor_transport(std::string vendor) : vendor_(std::move(vendor)) {}
  std::vector<http_request> sent;
  std::deque<http_response> writes, reads;
  bool hang_writes = false;
  int made = 0;

  void fetch(http_request req, callback done) override {
    sent.push_back(req);
    if (req.method != "GET") {
      if (hang_writes) return;
      if (!writes.empty()) {
        auto r = writes.front();
        writes.pop_front();
        return done(r);
      }
      ++made;
      if (vendor_ == "stripe")
        return done(answer(
            200, json{{"id", "cus_" + std::to_string(made)}, {"object", "customer"}}.dump()));
      return done(
          answer(201, json{{"id", "sg-" + std::to_string(made)},
                           {"updated_at", "2026-11-23T10:00:0" + std::to_string(made % 10) + "Z"}}
                          .dump()));
    }
    if (!reads.empty()) {
      auto r = reads.front();
      reads.pop_front();
      return done(r);
    }
    done(answer(200, vendor_ == "stripe" ? R"({"object":"list","has_more":false,"data":[]})"
                                         : R"({"$total":0,"$page":1,"$next":null,"$back":null,)"
                                           R"("$itemsPerPage":20,"$items":[]})"));
  }

  std::vector<http_request> writes_sent() const {
    std::vector<http_request> out;
    for (auto& r : sent)
      if (r.method != "GET") out.push_back(r);
    return out;
  }

 private:
  std::string vendor_;
};

struct push_world {
  world w;
  std::shared_ptr<vendor_transport> vendor;

  explicit push_world(const std::string& kind, std::optional<double> rate = std::nullopt)
      : vendor(std::make_shared<vendor_transport>(kind)) {
    w.ctx->make_transport = [t = vendor](const tls_options&) { return t; };
    w.start();
    integration_config c;
    c.name = "out";
    c.connector = kind;
    c.schedule = "manual";
    c.manual_burst = 10;
    c.streams = find_connector_kind(kind)->default_streams();
    if (kind == "stripe") {
      c.base_url = "https://api.stripe.com";
      c.api_key = "sk_test_1";
    } else {
      c.base_url = "https://api.accounting.sage.com/v3.1";
      c.api_key = "sage-access-token";
      c.settings = json{{"business_id", "biz-1"}};
    }
    if (rate) {
      c.upstream_rate_per_s = *rate;
      c.upstream_burst = 1;
    }
    auto [code, body] =
        w.call("add", "", {{"config", to_json(c, true)}, {"run_after_save", false}});
    INFO(body.dump());
    REQUIRE(code == 0);
  }

  json push(const std::string& entity, const std::string& ndjson) {
    auto [code, body] =
        w.call("push", "out", {{"entity", entity}, {"ndjson", ndjson}, {"by", "test"}});
    INFO(body.dump());
    REQUIRE(code == 0);
    return body;
  }

  std::vector<json> items() {
    auto [code, body] = w.call("pushes", "out");
    REQUIRE(code == 0);
    return body["items"].get<std::vector<json>>();
  }

  // The item as stored, with what `pushes` does not show (its idempotency key).
  json stored(const json& item) {
    auto row = w.lmdb->outbox_item("out", item["seq"].get<uint64_t>());
    REQUIRE(row);
    return json::parse(row->doc);
  }

  std::string key_of(const json& item) { return stored(item)["idempotency_key"]; }

  std::vector<json> events(const std::string& name) {
    std::vector<json> out;
    for (auto& l : w.lmdb->logs("out", 100000)) {
      auto j = json::parse(l);
      if (j["event"] == name) out.push_back(j);
    }
    return out;
  }

  // The engine and its integration actors stop and start again on the same store: what a
  // restart of the service does, with the vendor's side as it was.
  void restart() {
    caf::anon_send_exit(w.queries, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(w.engine, caf::exit_reason::user_shutdown);
    w.sched->run();
    w.start();
  }

  void advance(milliseconds d) {
    w.sched->advance_time(d);
    w.sched->run();
  }
};

const json membership_line = {
    {"description", "Membership"}, {"unit_price", "120.00"}, {"account_code", "acc-4000"}};

std::string customer(const std::string& ext, const std::string& op = "create") {
  return json{{"external_id", ext}, {"op", op}, {"fields", {{"name", "Ada " + ext}}}}.dump() + "\n";
}

}  // namespace

TEST_CASE("push: a 503 is retried after the retry policy's backoff with the same Idempotency-Key") {
  push_world p("stripe");
  p.vendor->writes.push_back(answer(503, R"({"error":{"type":"api_error","message":"down"}})"));
  p.push("customer", customer("M-1"));
  p.w.sched->run();
  REQUIRE(p.vendor->writes_sent().size() == 1);
  CHECK(p.items().at(0)["status"] == "sending");
  auto retrying = p.events("retrying");
  REQUIRE(retrying.size() == 1);
  auto wait = retrying[0]["retry_in_ms"].get<int64_t>();
  // Full jitter under the first ceiling (retry_settings' base, 500 ms).
  CHECK(wait <= 500);
  if (wait > 0) {
    p.advance(milliseconds(wait - 1));
    CHECK(p.vendor->writes_sent().size() == 1);
  }
  p.advance(milliseconds(1));
  auto posts = p.vendor->writes_sent();
  REQUIRE(posts.size() == 2);
  auto key = p.key_of(p.items().at(0));
  CHECK(!key.empty());
  CHECK(header_of(posts[0], "Idempotency-Key") == key);
  CHECK(header_of(posts[1], "Idempotency-Key") == key);
  CHECK(posts[1].body == posts[0].body);
  p.w.settle();
  auto it = p.items().at(0);
  CHECK(it["status"] == "succeeded");
  CHECK(it["vendor_id"] == "cus_1");
  CHECK(p.vendor->made == 1);
}

TEST_CASE(
    "push: a 429's Retry-After delays the write by that long, with the same key, and the write "
    "takes from the same pacing bucket as the pages after it") {
  push_world p("stripe", 1.0);  // one request a second, no burst beyond it
  auto limit = R"({"error":{"type":"invalid_request_error","code":"rate_limit"}})";
  p.vendor->writes.push_back(answer(429, limit, {{"Retry-After", "7"}}));
  p.push("customer", customer("M-1"));
  p.w.sched->run();
  REQUIRE(p.vendor->writes_sent().size() == 1);
  auto limited = p.events("rate_limited");
  REQUIRE(limited.size() == 1);
  CHECK(limited[0]["retry_in_ms"] == 7000);
  p.advance(milliseconds(6999));
  CHECK(p.vendor->writes_sent().size() == 1);
  p.advance(milliseconds(1));
  auto posts = p.vendor->writes_sent();
  REQUIRE(posts.size() == 2);
  CHECK(header_of(posts[1], "Idempotency-Key") == header_of(posts[0], "Idempotency-Key"));
  CHECK(p.items().at(0)["status"] == "succeeded");
  // The write took the bucket's one token: a sync's first page, asked for at once, waits for
  // the next one, a second later.
  auto sent = p.vendor->sent.size();
  REQUIRE(p.w.call("sync", "out").first == 0);
  p.w.sched->run();
  CHECK(p.vendor->sent.size() == sent);
  p.advance(milliseconds(990));
  CHECK(p.vendor->sent.size() == sent);
  p.advance(milliseconds(10));
  REQUIRE(p.vendor->sent.size() == sent + 1);
  CHECK(p.vendor->sent.back().method == "GET");
  p.w.settle();
  CHECK(p.vendor->made == 1);
}

TEST_CASE("push: an item left sending by a stop is resumed with the same Idempotency-Key") {
  push_world p("stripe");
  p.vendor->hang_writes = true;
  p.push("customer", customer("M-1"));
  p.w.sched->run();
  REQUIRE(p.vendor->writes_sent().size() == 1);
  REQUIRE(p.items().at(0)["status"] == "sending");
  auto key = p.key_of(p.items().at(0));
  // The write reached the vendor, its answer never came back: the service stops.
  p.vendor->hang_writes = false;
  p.restart();
  p.w.settle();
  auto posts = p.vendor->writes_sent();
  REQUIRE(posts.size() == 2);
  CHECK(header_of(posts[1], "Idempotency-Key") == key);
  CHECK(posts[1].url == posts[0].url);
  CHECK(posts[1].body == posts[0].body);
  auto it = p.items().at(0);
  CHECK(it["status"] == "succeeded");
  CHECK(it["vendor_id"] == "cus_1");
}

TEST_CASE(
    "push: a Sage create left sending by a stop looks its reference up first, and takes the "
    "record it finds instead of making a second") {
  push_world p("sage");
  p.vendor->hang_writes = true;
  p.push("customer", customer("M-1"));
  p.w.sched->run();
  REQUIRE(p.vendor->writes_sent().size() == 1);
  REQUIRE(p.items().at(0)["status"] == "sending");
  p.vendor->hang_writes = false;
  // The contact landed at Sage before the stop.
  p.vendor->reads.push_back(
      answer(200, R"({"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[)"
                  R"({"id":"sg-landed","reference":"M-1","updated_at":"2026-11-23T09:59:00Z"}]})"));
  auto before = p.vendor->sent.size();
  p.restart();
  p.w.settle();
  REQUIRE(p.vendor->sent.size() > before);
  auto lookup = p.vendor->sent[before];
  CHECK(lookup.method == "GET");
  CHECK(lookup.url.find("/contacts") != std::string::npos);
  CHECK(lookup.url.find("M-1") != std::string::npos);
  CHECK(p.vendor->writes_sent().size() == 1);  // no second create
  auto it = p.items().at(0);
  CHECK(it["status"] == "succeeded");
  CHECK(it["vendor_id"] == "sg-landed");
  CHECK(it["vendor_version"] == "2026-11-23T09:59:00Z");
}

TEST_CASE("push: a Sage create left sending whose lookup finds nothing is created then, once") {
  push_world p("sage");
  p.vendor->hang_writes = true;
  p.push("customer", customer("M-1"));
  p.w.sched->run();
  p.vendor->hang_writes = false;
  p.restart();
  p.w.settle();
  auto writes = p.vendor->writes_sent();
  REQUIRE(writes.size() == 2);
  CHECK(p.vendor->made == 1);
  CHECK(p.items().at(0)["status"] == "succeeded");
  CHECK(p.items().at(0)["vendor_id"] == "sg-1");
}

TEST_CASE(
    "push: items go in seq order, and an invoice waits for its customer's vendor id, which it "
    "is sent with") {
  push_world p("sage");
  p.push("customer", customer("C-1") + customer("C-2"));
  auto inv = json{{"external_id", "INV-1"},
                  {"op", "create"},
                  {"fields",
                   {{"customer_external_id", "C-2"},
                    {"currency", "GBP"},
                    {"issue_date", "2026-11-01"},
                    {"due_date", "2026-12-01"},
                    {"lines", json::array({membership_line})}}}};
  p.push("invoice", inv.dump() + "\n");
  p.w.settle();
  auto writes = p.vendor->writes_sent();
  REQUIRE(writes.size() == 3);
  CHECK(writes[0].url.find("/contacts") != std::string::npos);
  CHECK(writes[0].body.find("C-1") != std::string::npos);
  CHECK(writes[1].body.find("C-2") != std::string::npos);
  CHECK(writes[2].url.find("/sales_invoices") != std::string::npos);
  // The customer's vendor id as Sage's contact, not our reference.
  CHECK(writes[2].body.find("sg-2") != std::string::npos);
  auto items = p.items();
  REQUIRE(items.size() == 3);
  for (size_t i = 0; i < items.size(); ++i) {
    CHECK(items[i]["status"] == "succeeded");
    if (i) CHECK(items[i]["seq"].get<uint64_t>() > items[i - 1]["seq"].get<uint64_t>());
  }
  CHECK(items[2]["vendor_id"] == "sg-3");
}

TEST_CASE("push: an invoice whose customer has no vendor id fails, naming the customer to push") {
  push_world p("sage");
  auto inv = json{{"external_id", "INV-1"},
                  {"fields",
                   {{"customer_external_id", "C-9"},
                    {"currency", "GBP"},
                    {"issue_date", "2026-11-01"},
                    {"due_date", "2026-12-01"},
                    {"lines", json::array({membership_line})}}}};
  p.push("invoice", inv.dump() + "\n");
  p.w.settle();
  CHECK(p.vendor->writes_sent().empty());
  auto it = p.items().at(0);
  CHECK(it["status"] == "failed");
  REQUIRE(it["errors"].size() == 1);
  CHECK(it["errors"][0]["field"] == "customer_external_id");
  CHECK(it["errors"][0]["message"].get<std::string>().find("C-9") != std::string::npos);
  CHECK(it["hint"].get<std::string>().find("push the record it refers to first") !=
        std::string::npos);
}

TEST_CASE(
    "push: a refused item counts in the status as push_failed, and a corrected push of it "
    "supersedes it") {
  push_world p("stripe");
  p.vendor->writes.push_back(
      answer(400, R"({"error":{"type":"invalid_request_error","code":"email_invalid",)"
                  R"("message":"Invalid email address: nope","param":"email"}})"));
  p.push(
      "customer",
      json{{"external_id", "M-1"}, {"fields", {{"name", "Ada"}, {"email", "nope"}}}}.dump() + "\n");
  p.w.settle();
  auto it = p.items().at(0);
  CHECK(it["status"] == "failed");
  REQUIRE(!it["errors"].empty());
  CHECK(it["errors"][0]["field"] == "email");
  auto s = p.w.status("out");
  CHECK(s["pushes"]["failed"] == 1);
  CHECK(s["status"] == "error");
  CHECK(p.events("push_failed").size() == 1);

  p.push("customer",
         json{{"external_id", "M-1"}, {"fields", {{"name", "Ada"}, {"email", "ada@example.com"}}}}
                 .dump() +
             "\n");
  p.w.settle();
  auto items = p.items();
  REQUIRE(items.size() == 2);
  CHECK(items[0]["status"] == "superseded");
  CHECK(items[1]["status"] == "succeeded");
  CHECK(items[1]["revision"].get<int>() == items[0]["revision"].get<int>() + 1);
  // Another request, another key: the vendor stored the first one's refusal under its key.
  CHECK(p.key_of(items[1]) != p.key_of(items[0]));
  s = p.w.status("out");
  CHECK(s["pushes"]["failed"] == 0);
  CHECK(s["status"] != "error");
}

TEST_CASE("pushes: a page that fills at the end of a read-ahead block still says there is more") {
  push_world p("stripe");
  std::string many;
  for (int i = 1; i <= 501; ++i) many += customer("M-" + std::to_string(i));
  p.push("customer", many);
  auto [code, page] = p.w.call("pushes", "out", {{"limit", 500}});
  REQUIRE(code == 0);
  REQUIRE(page["items"].size() == 500);
  REQUIRE(page["next_after"].is_number());
  auto [code2, rest] = p.w.call("pushes", "out", {{"after", page["next_after"]}, {"limit", 500}});
  REQUIRE(code2 == 0);
  REQUIRE(rest["items"].size() == 1);
  CHECK(rest["items"][0]["external_id"] == "M-501");
  CHECK(rest["next_after"].is_null());
}

TEST_CASE("push: a request goes out with the credentials of when it is sent, not of when its "
          "step was made") {
  // The retry's step is made when the 503 comes back; the key is rotated during the wait (as a
  // sign-in refreshes an access token): the write after it must carry the new one.
  push_world p("stripe");
  p.vendor->writes.push_back(answer(503, R"({"error":{"type":"api_error","message":"down"}})"));
  p.push("customer", customer("M-1"));
  p.w.sched->run();
  REQUIRE(p.vendor->writes_sent().size() == 1);
  CHECK(header_of(p.vendor->writes_sent()[0], "Authorization") == "Bearer sk_test_1");
  auto [code, body] = p.w.call("configure", "out", {{"changes", {{"api_key", "sk_test_2"}}}});
  INFO(body.dump());
  REQUIRE(code == 0);
  p.advance(std::chrono::seconds(2));  // past the first backoff (at most 500 ms)
  auto posts = p.vendor->writes_sent();
  REQUIRE(posts.size() == 2);
  CHECK(header_of(posts[1], "Authorization") == "Bearer sk_test_2");
  CHECK(header_of(posts[1], "Idempotency-Key") == header_of(posts[0], "Idempotency-Key"));
}
