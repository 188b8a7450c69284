// Write-back to QuickBooks Online and Stripe: the body builders and error mappers on the
// vendors' documented bodies, the writers on canned answers, the sandbox's write endpoints
// called directly (requestid / Idempotency-Key replay, write_lost, stale SyncToken, validation
// Faults), and the writers driven against the sandbox step by step.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/push.hpp"
#include "model/push_quickbooks.hpp"
#include "model/push_stripe.hpp"
#include "sandbox/vendor_quickbooks.hpp"
#include "sandbox/vendor_stripe.hpp"

using namespace ledgersync;
using nlohmann::json;
namespace sb = ledgersync::sandbox;

namespace {

integration_config qbo_config(const std::string& realm = "9130350000000000") {
  integration_config c;
  c.name = "qb";
  c.connector = "quickbooks";
  c.base_url = "http://sandbox.test/quickbooks/v3/company";
  c.api_key = "token";
  c.settings = json{{"realm_id", realm}, {"minor_version", 75}};
  return c;
}

integration_config stripe_config() {
  integration_config c;
  c.name = "st";
  c.connector = "stripe";
  c.base_url = "http://sandbox.test/stripe";
  c.api_key = "sk_test_sandbox";
  c.settings = json{{"stripe_version", "2024-06-20"}};
  return c;
}

push_item item(const std::string& entity, push_op op, json fields, std::string ext = "APP-1") {
  push_item it;
  it.entity = entity;
  it.op = op;
  it.external_id = std::move(ext);
  it.fields = std::move(fields);
  it.idempotency_key = "k-" + it.external_id + "-1";
  return it;
}

http_response answer(int status, std::string body, header_list headers = {}) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string header(const http_request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

// Intuit's documented Fault shape (developer.intuit.com, "handling common errors").
std::string qbo_fault(const std::string& code, const std::string& message,
                      const std::string& detail, const std::string& element = "") {
  return json{
      {"Fault",
       {{"Error",
         json::array(
             {{{"Message", message}, {"Detail", detail}, {"code", code}, {"element", element}}})},
        {"type", "ValidationFault"}}},
      {"time", "2017-09-29T09:17:31.892-07:00"}}
      .dump();
}

}  // namespace

TEST_CASE("QuickBooks bodies: Customer, Invoice lines and Payment as Intuit documents them",
          "[push][quickbooks]") {
  auto c = model::quickbooks_body("customer",
                                  json{{"name", "Amy's Bird Sanctuary"},
                                       {"email", "birds@intuit.com"},
                                       {"phone", "(650) 555-3311"},
                                       {"currency", "USD"}},
                                  "APP-1", "", "");
  REQUIRE(c.ok());
  auto cj = json::parse(*c);
  CHECK(cj["DisplayName"] == "Amy's Bird Sanctuary");
  CHECK(cj["PrimaryEmailAddr"]["Address"] == "birds@intuit.com");
  CHECK(cj["PrimaryPhone"]["FreeFormNumber"] == "(650) 555-3311");
  CHECK(cj["CurrencyRef"]["value"] == "USD");
  CHECK(cj["Notes"] == "APP-1");  // where the external id is kept
  CHECK_FALSE(cj.contains("Id"));

  // Amounts are spliced from the decimal text: 17 significant digits survive, as does 0.10.
  auto inv = model::quickbooks_body(
      "invoice",
      json{{"customer_id", "58"},
           {"currency", "USD"},
           {"number", "1037"},
           {"issue_date", "2026-11-20"},
           {"due_date", "2026-12-20"},
           {"lines", json::array({{{"description", "Consulting"},
                                   {"quantity", "3"},
                                   {"unit_price", "1234567890123.45"},
                                   {"item_code", "1"},
                                   {"tax_code", "NON"}},
                                  {{"description", "Pens"}, {"unit_price", "0.10"}}})}},
      "INV-9", "", "");
  REQUIRE(inv.ok());
  CHECK(inv->find("\"Amount\":3703703670370.35") != std::string::npos);
  CHECK(inv->find("\"UnitPrice\":1234567890123.45") != std::string::npos);
  CHECK(inv->find("\"UnitPrice\":0.10") != std::string::npos);
  CHECK(inv->find("\"Amount\":0.1,") != std::string::npos);
  auto ij = json::parse(*inv);
  CHECK(ij["CustomerRef"]["value"] == "58");
  CHECK(ij["DocNumber"] == "1037");
  CHECK(ij["TxnDate"] == "2026-11-20");
  CHECK(ij["DueDate"] == "2026-12-20");
  CHECK(ij["PrivateNote"] == "INV-9");
  CHECK(ij["Line"][0]["DetailType"] == "SalesItemLineDetail");
  CHECK(ij["Line"][0]["Description"] == "Consulting");
  CHECK(ij["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "1");
  CHECK(ij["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "NON");
  CHECK(ij["Line"][1]["SalesItemLineDetail"]["Qty"] == 1);

  auto pay = model::quickbooks_body("payment",
                                    json{{"amount", "55.00"},
                                         {"currency", "USD"},
                                         {"date", "2026-11-21"},
                                         {"customer_id", "58"},
                                         {"invoice_id", "130"},
                                         {"account", "35"},
                                         {"reference", "CHK 1001"}},
                                    "PAY-1", "", "");
  REQUIRE(pay.ok());
  CHECK(pay->find("\"TotalAmt\":55.00") != std::string::npos);
  auto pj = json::parse(*pay);
  CHECK(pj["Line"][0]["LinkedTxn"][0] == json{{"TxnId", "130"}, {"TxnType", "Invoice"}});
  CHECK(pj["DepositToAccountRef"]["value"] == "35");
  CHECK(pj["PaymentRefNum"] == "CHK 1001");

  // A sparse update names the record and the SyncToken it was read at.
  auto up =
      model::quickbooks_body("customer", json{{"email", "new@example.com"}}, "APP-1", "58", "3");
  auto uj = json::parse(*up);
  CHECK(uj["Id"] == "58");
  CHECK(uj["SyncToken"] == "3");
  CHECK(uj["sparse"] == true);
  CHECK_FALSE(uj.contains("DisplayName"));
}

TEST_CASE("QuickBooks check: Intuit's lengths and what it cannot take", "[push][quickbooks]") {
  auto cfg = qbo_config();
  auto w = make_push_writer(cfg);
  REQUIRE(w);
  CHECK(w->refuses("invoice", push_op::update).empty());
  CHECK_FALSE(w->refuses("bank_transaction", push_op::create).empty());
  auto p = w->check(item("customer", push_op::create, {{"name", std::string(501, 'n')}}));
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "fields.name: QuickBooks takes at most 500 characters");
  p = w->check(item(
      "invoice", push_op::create,
      {{"reference", "PO 1"},
       {"lines",
        json::array({{{"description", "x"}, {"unit_price", "1"}, {"account_code", "200"}}})}}));
  REQUIRE(p.size() == 2);
  CHECK(p[0].rfind("fields.reference: QuickBooks keeps the external_id", 0) == 0);
  CHECK(p[1].rfind("fields.lines/0/account_code:", 0) == 0);
  CHECK_FALSE(w->check(item("payment", push_op::create, {{"amount", "1.00"}})).empty());
  CHECK(w->check(item("customer", push_op::create, {{"name", "bad\x01name"}})).size() == 1);
}

TEST_CASE("QuickBooks Faults map to our fields", "[push][quickbooks]") {
  auto f = model::quickbooks_faults(qbo_fault(
      "6240", "Duplicate Name Exists Error",
      "The name supplied already exists. : Another customer is already using this name."));
  REQUIRE(f.size() == 1);
  CHECK(f[0].type == "ValidationFault");
  CHECK(model::quickbooks_field("customer", f[0]) == "name");
  model::quickbooks_fault e{"ValidationFault", "2020", "", "", "CustomerRef"};
  CHECK(model::quickbooks_field("invoice", e) == "customer_id");
  e.element = "Line[2].SalesItemLineDetail.ItemRef";
  CHECK(model::quickbooks_field("invoice", e) == "lines/1/item_code");
  e.element = "TxnDate";
  CHECK(model::quickbooks_field("payment", e) == "date");
  CHECK(model::quickbooks_field("invoice", e) == "issue_date");
  CHECK(model::quickbooks_faults("{\"Customer\":{}}").empty());
}

TEST_CASE("QuickBooks writer: create with requestid, answers mapped", "[push][quickbooks]") {
  auto cfg = qbo_config();
  auto w = make_push_writer(cfg);
  auto it = item("customer", push_op::create, {{"name", "Amy"}});
  auto s = w->first_step(it, false);
  CHECK(s.writes);
  CHECK(s.request.method == "POST");
  CHECK(s.request.url ==
        "http://sandbox.test/quickbooks/v3/company/9130350000000000/customer"
        "?requestid=k-APP-1-1&minorversion=75");
  CHECK(header(s.request, "Content-Type") == "application/json");
  CHECK(header(s.request, "Authorization") == "Bearer token");
  // Resumed: the very same request (QuickBooks replays a requestid's first answer).
  CHECK(w->first_step(it, true).request.url == s.request.url);
  CHECK(w->first_step(it, true).request.body == s.request.body);

  auto ok = w->on_answer(it, s,
                         answer(200, R"({"Customer":{"Id":"67","SyncToken":"0","DisplayName":"Amy"},
                                      "time":"2026-11-26T01:02:03.000-07:00"})"));
  CHECK(ok.error.ok());
  CHECK(ok.status == push_status::succeeded);
  CHECK(ok.vendor_id == "67");
  CHECK(ok.vendor_version == "0");

  auto dup = w->on_answer(
      it, s,
      answer(400, qbo_fault("6240", "Duplicate Name Exists Error",
                            "The name supplied already exists. : Another customer is already "
                            "using this name. Please use a different name.")));
  CHECK(dup.error.ok());
  CHECK(dup.status == push_status::failed);
  REQUIRE(dup.errors.size() == 1);
  CHECK(dup.errors[0].field == "name");
  CHECK(dup.hint == "correct name, then push the item again");

  auto auth = w->on_answer(
      it, s, answer(401, R"({"fault":{"error":[{"message":"message=AuthenticationFailed",
                                        "detail":"Token expired","code":"3200"}],
                                        "type":"AUTHENTICATION"}})"));
  CHECK(auth.error.category == error_category::auth);
  CHECK_FALSE(auth.error.retryable());
  auto throttled = w->on_answer(it, s, answer(429, qbo_fault("3001", "ThrottleExceeded", "")));
  CHECK(throttled.error.category == error_category::rate_limited);
  CHECK(throttled.error.retry_after_s == 60);
  auto down = w->on_answer(it, s, answer(503, "Service Unavailable"));
  CHECK(down.error.category == error_category::upstream);
  CHECK(down.error.retryable());
  // A SystemFault inside a 200 is no success.
  auto in200 =
      w->on_answer(it, s, answer(200, R"({"Fault":{"Error":[{"Message":"An application error",
                                         "code":"10000"}],"type":"SystemFault"}})"));
  CHECK(in200.error.retryable());
}

TEST_CASE("QuickBooks writer: update reads the SyncToken first; 5010 is a conflict, 610 gone",
          "[push][quickbooks]") {
  auto cfg = qbo_config();
  auto w = make_push_writer(cfg);
  auto it = item("customer", push_op::update, {{"email", "new@example.com"}});
  it.vendor_id = "58";
  auto read = w->first_step(it, false);
  CHECK_FALSE(read.writes);
  CHECK(read.phase == "read");
  CHECK(read.request.url ==
        "http://sandbox.test/quickbooks/v3/company/9130350000000000/customer/58?minorversion=75");
  auto next = w->on_answer(it, read, answer(200, R"({"Customer":{"Id":"58","SyncToken":"4"}})"));
  REQUIRE(next.next);
  CHECK(next.next->writes);
  auto body = json::parse(next.next->request.body);
  CHECK(body["SyncToken"] == "4");
  CHECK(body["sparse"] == true);

  it.base_version = "2";
  auto direct = w->first_step(it, false);
  CHECK(direct.phase == "write");
  CHECK(json::parse(direct.request.body)["SyncToken"] == "2");
  auto stale = w->on_answer(
      it, direct,
      answer(400, qbo_fault("5010", "Stale Object Error",
                            "Stale Object Error : You and Sam were working on this at the same "
                            "time. Sam finished before you did, so your work was not saved.")));
  CHECK(stale.status == push_status::conflict);
  CHECK(stale.message.find("base_version (SyncToken) 2 is stale") != std::string::npos);
  CHECK(stale.hint ==
        "read the record again (ledgersync records qb --id '58'), then push with the new "
        "base_version");
  auto gone = w->on_answer(it, direct,
                           answer(400, qbo_fault("610", "Object Not Found",
                                                 "Object Not Found : Something you're trying to "
                                                 "use has been made inactive.")));
  CHECK(gone.status == push_status::failed);
  CHECK(gone.message.find("no longer exists at QuickBooks") != std::string::npos);

  CHECK(w->version_of("customer", R"({"entity":"customer","id":"58","fields":{},
                                     "raw":{"Id":"58","SyncToken":"7"}})") == "7");
  CHECK(w->version_of("customer", "not json").empty());
}

TEST_CASE("Stripe bodies, check and error mapping", "[push][stripe]") {
  CHECK(model::stripe_customer_form(json{{"name", "Jenny Rosen"}, {"email", "jenny@example.com"}},
                                    "APP 1", true) ==
        "name=Jenny%20Rosen&email=jenny%40example.com&metadata%5Bexternal_id%5D=APP%201");
  auto e = model::stripe_error_of(R"({"error":{"code":"email_invalid",
      "doc_url":"https://stripe.com/docs/error-codes/email-invalid",
      "message":"Invalid email address: nope","param":"email","type":"invalid_request_error"}})");
  CHECK(e.type == "invalid_request_error");
  CHECK(e.code == "email_invalid");
  CHECK(model::stripe_field(e.param) == "email");
  CHECK(model::stripe_field("metadata[external_id]") == "external_id");
  auto p = model::stripe_check(json{{"phone", std::string(21, '1')}, {"currency", "GBP"}});
  REQUIRE(p.size() == 2);
  CHECK(p[0] == "fields.phone: Stripe takes at most 20 characters");
}

TEST_CASE("Stripe writer: customers only, Idempotency-Key, upsert looks up by metadata",
          "[push][stripe]") {
  auto cfg = stripe_config();
  auto w = make_push_writer(cfg);
  REQUIRE(w);
  CHECK_FALSE(w->refuses("invoice", push_op::create).empty());
  CHECK(w->refuses("customer", push_op::update).empty());
  CHECK(w->version_of("customer", R"({"raw":{"id":"cus_1"}})").empty());
  // No concurrency check at Stripe: a base_version given anyway is refused, not ignored.
  auto stale = item("customer", push_op::update, {{"email", "j@example.com"}});
  CHECK(w->check(stale).empty());
  stale.base_version = "1700000000";
  auto why = w->check(stale);
  REQUIRE(why.size() == 1);
  CHECK(why[0].rfind("base_version: Stripe has no version to check", 0) == 0);

  auto it = item("customer", push_op::create, {{"name", "Jenny"}});
  auto s = w->first_step(it, false);
  CHECK(s.writes);
  CHECK(s.request.url == "http://sandbox.test/stripe/v1/customers");
  CHECK(header(s.request, "Idempotency-Key") == "k-APP-1-1");
  CHECK(header(s.request, "Stripe-Version") == "2024-06-20");
  CHECK(header(s.request, "Content-Type") == "application/x-www-form-urlencoded");
  auto ok = w->on_answer(it, s, answer(200, R"({"id":"cus_NffrFeUfNV2Hib","object":"customer"})"));
  CHECK(ok.status == push_status::succeeded);
  CHECK(ok.vendor_id == "cus_NffrFeUfNV2Hib");

  auto bad = w->on_answer(it, s, answer(400, R"({"error":{"code":"email_invalid",
      "message":"Invalid email address: nope","param":"email","type":"invalid_request_error"}})"));
  CHECK(bad.status == push_status::failed);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].field == "email");
  auto reused = w->on_answer(it, s, answer(400, R"({"error":{"type":"idempotency_error",
      "message":"Keys for idempotent requests can only be used with the same parameters"}})"));
  CHECK(reused.status == push_status::failed);
  CHECK(reused.message.find("idempotency key k-APP-1-1") != std::string::npos);
  auto busy = w->on_answer(it, s, answer(409, R"({"error":{"type":"idempotency_error",
      "message":"There is currently another in-progress request using this Idempotent Key"}})"));
  CHECK(busy.error.retryable());
  auto limited = w->on_answer(it, s, answer(429, R"({"error":{"type":"invalid_request_error",
      "code":"rate_limit","message":"Too many requests"}})"));
  CHECK(limited.error.category == error_category::rate_limited);
  auto key = w->on_answer(it, s, answer(401, R"({"error":{"type":"invalid_request_error",
      "message":"Invalid API Key provided: sk_test_****"}})"));
  CHECK(key.error.category == error_category::auth);
  CHECK_FALSE(key.error.retryable());

  auto up = item("customer", push_op::upsert, {{"email", "j@example.com"}}, "O'Brien");
  auto look = w->first_step(up, false);
  CHECK_FALSE(look.writes);
  CHECK(look.request.url ==
        "http://sandbox.test/stripe/v1/customers/search?query=metadata%5B%27external_id%27%5D%3A"
        "%27O%5C%27Brien%27");
  auto none = w->on_answer(up, look, answer(200, R"({"object":"search_result","data":[]})"));
  REQUIRE(none.next);
  CHECK(none.next->request.url == "http://sandbox.test/stripe/v1/customers");
  auto found =
      w->on_answer(up, look, answer(200, R"({"object":"search_result","data":[{"id":"cus_9"}]})"));
  REQUIRE(found.next);
  CHECK(found.next->request.url == "http://sandbox.test/stripe/v1/customers/cus_9");
  CHECK(header(found.next->request, "Idempotency-Key") == "k-O'Brien-1-update");

  auto upd = item("customer", push_op::update, {{"name", "X"}});
  upd.vendor_id = "cus_gone";
  auto us = w->first_step(upd, false);
  auto gone = w->on_answer(upd, us, answer(404, R"({"error":{"code":"resource_missing",
      "message":"No such customer: 'cus_gone'","param":"id","type":"invalid_request_error"}})"));
  CHECK(gone.status == push_status::failed);
  CHECK(gone.message.find("no longer exists at Stripe") != std::string::npos);
}

namespace {

// The sandbox's vendors, and a writer's requests delivered to them as the server would.
struct world {
  int64_t now = 1'790'000'000'000;
  sb::effect_log effects;
  sb::oauth_server auth{sb::oauth_options::defaults(), [this] { return now; }};
  sb::quickbooks_api qbo{[] {
                           sb::quickbooks_options o;
                           o.records = 5;
                           return o;
                         }(),
                         auth, [this] { return now; }, effects};
  sb::stripe_api stripe{[] {
                          sb::stripe_options o;
                          o.records = 5;
                          return o;
                        }(),
                        [this] { return now; }, effects};
  std::string token;

  world() {
    sb::vendor_request r;
    r.method = "POST";
    r.path = "/oauth/token";
    r.body =
        "grant_type=client_credentials&client_id=quickbooks-sandbox"
        "&client_secret=quickbooks-sandbox-secret";
    token = json::parse(auth.handle(r).body)["access_token"];
  }

  http_response send(const http_request& req) {
    const std::string origin = "http://sandbox.test";
    REQUIRE(req.url.rfind(origin, 0) == 0);
    std::string target = req.url.substr(origin.size());
    sb::vendor_request vr;
    REQUIRE(sb::make_request(req.method, target, vr));
    for (const auto& [k, v] : req.headers) {
      std::string lk = k;
      for (auto& ch : lk) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      vr.headers[lk] = v;
    }
    vr.body = req.body;
    sb::vendor_response out;
    if (vr.path.rfind("/quickbooks/v3/company", 0) == 0) {
      vr.path = vr.path.substr(22);
      vr.headers["authorization"] = "Bearer " + token;
      out = qbo.handle(vr);
    } else {
      vr.path = vr.path.substr(10);  // "/stripe/v1"
      out = stripe.handle(vr);
    }
    now += 1000;
    http_response r;
    r.status = out.status;
    r.body = out.body;
    for (const auto& h : out.headers) r.headers.push_back(h);
    r.headers.emplace_back("Content-Type", out.content_type);
    return r;
  }

  // Runs an item's exchange to its end; every answer recorded in `seen`.
  push_answer run(const push_writer& w, const push_item& it, bool resumed = false,
                  std::vector<http_response>* seen = nullptr) {
    auto step = w.first_step(it, resumed);
    for (int i = 0; i < 5; ++i) {
      auto r = send(step.request);
      if (seen) seen->push_back(r);
      auto a = w.on_answer(it, step, r);
      if (!a.next) return a;
      step = *a.next;
    }
    FAIL("the exchange did not end");
    return {};
  }
};

}  // namespace

TEST_CASE("QuickBooks sandbox: a create, its replay, write_lost, a stale update, Faults",
          "[push][quickbooks][sandbox]") {
  world w;
  auto cfg = qbo_config(w.qbo.realm());
  auto writer = make_push_writer(cfg);
  auto it = item("customer", push_op::create, {{"name", "Pushed Ltd"}, {"email", "a@b.example"}});
  auto a = w.run(*writer, it);
  REQUIRE(a.error.ok());
  CHECK(a.status == push_status::succeeded);
  CHECK(a.vendor_version == "0");
  CHECK(w.effects.creates("quickbooks", "customer", "APP-1") == 1);
  // The same requestid again (a resumed item): the first answer, no second customer.
  auto again = w.run(*writer, it, true);
  CHECK(again.vendor_id == a.vendor_id);
  CHECK(w.effects.creates("quickbooks", "customer", "APP-1") == 1);
  // It shows in the query the next sync reads.
  auto q = w.send([&] {
    http_request r;
    r.url = "http://sandbox.test/quickbooks/v3/company/" + w.qbo.realm() +
            "/query?query=SELECT%20*%20FROM%20Customer%20MAXRESULTS%20100";
    return r;
  }());
  auto listed = json::parse(q.body)["QueryResponse"]["Customer"];
  CHECK(listed.size() == 6);
  CHECK(listed.back()["DisplayName"] == "Pushed Ltd");
  CHECK(listed.back()["Notes"] == "APP-1");
  CHECK(listed.back()["SyncToken"] == "0");  // what the synced copy's base_version will be
  CHECK(listed.back()["MetaData"]["LastUpdatedTime"].is_string());

  // write_lost: the customer is made, the answer is a 500; the retry replays the first answer.
  REQUIRE(w.qbo.fault("write_lost", 1));
  auto lost_item = item("customer", push_op::create, {{"name", "Lost Answer Co"}}, "APP-2");
  auto lost = w.run(*writer, lost_item);
  CHECK(lost.error.retryable());
  CHECK(w.effects.creates("quickbooks", "customer", "APP-2") == 1);
  auto retried = w.run(*writer, lost_item, true);
  CHECK(retried.status == push_status::succeeded);
  CHECK(w.effects.creates("quickbooks", "customer", "APP-2") == 1);
  REQUIRE(w.qbo.fault("write_500", 1));
  auto failed_write = w.run(*writer, item("customer", push_op::create, {{"name", "N"}}, "APP-3"));
  CHECK(failed_write.error.retryable());
  CHECK(w.effects.creates("quickbooks", "customer", "APP-3") == 0);

  // An update at the current SyncToken goes through; at the old one it is a conflict.
  auto up = item("customer", push_op::update, {{"email", "new@b.example"}});
  up.vendor_id = a.vendor_id;
  up.idempotency_key = "k-up-1";
  auto updated = w.run(*writer, up);
  CHECK(updated.status == push_status::succeeded);
  CHECK(updated.vendor_version == "1");
  auto stale = up;
  stale.base_version = "0";
  stale.idempotency_key = "k-up-2";
  auto conflict = w.run(*writer, stale);
  CHECK(conflict.status == push_status::conflict);

  // Intuit's validation Faults, mapped to our fields.
  auto dup = w.run(*writer, item("customer", push_op::create, {{"name", "Pushed Ltd"}}, "APP-4"));
  CHECK(dup.status == push_status::failed);
  REQUIRE_FALSE(dup.errors.empty());
  CHECK(dup.errors[0].field == "name");
  auto no_customer = w.run(
      *writer, item("invoice", push_op::create,
                    {{"customer_id", "999"},
                     {"currency", "USD"},
                     {"issue_date", "2026-11-20"},
                     {"due_date", "2026-12-20"},
                     {"lines", json::array({{{"description", "x"}, {"unit_price", "10.00"}}})}},
                    "INV-1"));
  CHECK(no_customer.status == push_status::failed);
  REQUIRE_FALSE(no_customer.errors.empty());
  CHECK(no_customer.errors[0].field == "customer_id");

  // An invoice and a payment against it, in exact amounts; the invoice shows its total.
  auto inv = w.run(
      *writer,
      item("invoice", push_op::create,
           {{"customer_id", a.vendor_id},
            {"currency", "USD"},
            {"issue_date", "2026-11-20"},
            {"due_date", "2026-12-20"},
            {"lines",
             json::array({{{"description", "x"}, {"quantity", "2"}, {"unit_price", "10.25"}}})}},
           "INV-2"));
  REQUIRE(inv.status == push_status::succeeded);
  auto pay = w.run(*writer, item("payment", push_op::create,
                                 {{"customer_id", a.vendor_id},
                                  {"invoice_id", inv.vendor_id},
                                  {"amount", "20.50"},
                                  {"currency", "USD"},
                                  {"date", "2026-11-21"}},
                                 "PAY-1"));
  CHECK(pay.status == push_status::succeeded);
  CHECK(w.effects.creates("quickbooks", "payment", "PAY-1") == 1);
  CHECK(w.effects.creates("quickbooks", "invoice", "INV-2") == 1);
}

TEST_CASE("Stripe sandbox: Idempotency-Key replay and misuse, write_lost, search, validation",
          "[push][stripe][sandbox]") {
  world w;
  auto cfg = stripe_config();
  auto writer = make_push_writer(cfg);
  auto it = item("customer", push_op::create, {{"name", "Jenny Rosen"}, {"email", "j@x.example"}});
  std::vector<http_response> seen;
  auto a = w.run(*writer, it, false, &seen);
  REQUIRE(a.status == push_status::succeeded);
  CHECK(a.vendor_id.rfind("cus_", 0) == 0);
  CHECK(w.effects.creates("stripe", "customer", "APP-1") == 1);
  auto again = w.run(*writer, it, false, &seen);
  CHECK(again.vendor_id == a.vendor_id);
  CHECK(seen.back().header("Idempotent-Replayed") == "true");
  CHECK(w.effects.creates("stripe", "customer", "APP-1") == 1);
  // Resumed after Stripe's 24 hours of keys (disabled while `sending`): found by search.
  auto late = it;
  late.sending_for_ms = 25 * 3600 * 1000;
  auto resumed = w.run(*writer, late, true, &seen);
  CHECK(seen.back().header("Idempotent-Replayed") == "");  // not a replay: a search found it
  CHECK(resumed.vendor_id == a.vendor_id);
  CHECK(w.effects.creates("stripe", "customer", "APP-1") == 1);

  // The same key on other parameters is Stripe's idempotency_error, and nothing changes.
  auto other = it;
  other.fields["name"] = "Someone Else";
  auto misuse = w.run(*writer, other);
  CHECK(misuse.status == push_status::failed);
  CHECK(misuse.message.find("used with other parameters") != std::string::npos);

  // write_lost: made, answer lost; the retry with the same key replays.
  REQUIRE(w.stripe.fault("write_lost", 1));
  auto lost_item = item("customer", push_op::create, {{"name", "Lost"}}, "APP-2");
  CHECK(w.run(*writer, lost_item).error.retryable());
  CHECK(w.run(*writer, lost_item, true).status == push_status::succeeded);
  CHECK(w.effects.creates("stripe", "customer", "APP-2") == 1);
  REQUIRE(w.stripe.fault("write_429", 1));
  CHECK(
      w.run(*writer, item("customer", push_op::create, {{"name", "L"}}, "APP-3")).error.category ==
      error_category::rate_limited);

  // An upsert with no vendor id finds the customer by metadata[external_id] and updates it.
  auto up = item("customer", push_op::upsert, {{"phone", "+44 20 7946 0000"}});
  up.idempotency_key = "k-APP-1-2";
  auto upserted = w.run(*writer, up);
  CHECK(upserted.status == push_status::succeeded);
  CHECK(upserted.vendor_id == a.vendor_id);
  CHECK(w.effects.creates("stripe", "customer", "APP-1") == 1);
  auto fresh = item("customer", push_op::upsert, {{"name", "New"}}, "APP-5");
  CHECK(w.run(*writer, fresh).vendor_id != a.vendor_id);
  CHECK(w.effects.creates("stripe", "customer", "APP-5") == 1);

  // Stripe's validation error, by our field name.
  auto bad = w.run(*writer, item("customer", push_op::create, {{"email", "nope"}}, "APP-6"));
  CHECK(bad.status == push_status::failed);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].field == "email");

  // The customers show in the list the next sync reads, newest first.
  http_request list;
  list.url = "http://sandbox.test/stripe/v1/customers?limit=3";
  list.headers.emplace_back("Authorization", "Bearer sk_test_sandbox");
  auto page = json::parse(w.send(list).body);
  CHECK(page["data"][0]["metadata"]["external_id"] == "APP-5");
  auto effects = json::parse(w.effects.to_json());
  CHECK(effects["stripe"]["customer"]["APP-1"]["updates"] == 1);
}
