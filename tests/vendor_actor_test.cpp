// Vendor connectors driven through the real integration actor in virtual time: what the engine
// makes of their answers (an ECB 304, each vendor's 429 and rate-limit headers, a drop folder's
// files moved only once their page is committed).
#include <filesystem>
#include <fstream>

#include "connectors/registry.hpp"
#include "sandbox/vendor_bank.hpp"
#include "tests/actor_world.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync;
using namespace ledgersync::testing;

namespace {

constexpr const char* ecb_day = R"(<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
  xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<gesmes:subject>Reference rates</gesmes:subject>
<Cube><Cube time="2026-11-24"><Cube currency="USD" rate="1.0532"/>
<Cube currency="GBP" rate="0.83415"/></Cube></Cube></gesmes:Envelope>)";

void add_vendor(world& w, const std::string& name, const std::string& kind, const std::string& base,
                const std::string& key) {
  integration_config c;
  c.name = name;
  c.connector = kind;
  c.base_url = base;
  c.api_key = key;
  c.schedule = "manual";
  c.manual_burst = 10;
  c.streams = find_connector_kind(kind)->default_streams();
  auto [code, body] = w.call("add", "", {{"config", to_json(c, true)}, {"run_after_save", true}});
  INFO(body.dump());
  REQUIRE(code == 0);
}

}  // namespace

TEST_CASE("ecb_fx through the engine: the file's rates, then a 304 is a clean, empty run") {
  world w;
  w.start();
  w.transport->scripted.push_back(answer(200, ecb_day));
  add_vendor(w, "fx", "ecb_fx", "https://www.ecb.europa.eu/stats/eurofxref", "");
  w.settle();
  CHECK(w.status("fx")["status"] == "active");
  CHECK(w.lmdb->record_counts("fx")["fx_rates"] == 2);
  REQUIRE(w.transport->urls.size() == 1);
  CHECK(w.transport->urls[0] == "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml");

  w.transport->scripted.push_back(answer(304, ""));
  CHECK(w.call("sync", "fx").first == 0);
  w.settle();
  auto s = w.status("fx");
  CHECK(s["status"] == "active");
  CHECK(s["last_error"].is_null());
  CHECK(w.transport->urls.size() == 2);
  CHECK(w.lmdb->record_counts("fx")["fx_rates"] == 2);
}

TEST_CASE(
    "stripe through the engine: a 429 without Retry-After backs off with jitter, then "
    "the lists are read") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(429, R"({"error":{"type":"invalid_request_error","code":"rate_limit"}})"));
  json customer{{"id", "cus_1"},         {"object", "customer"}, {"name", "Jenny Rosen"},
                {"created", 1700000000}, {"currency", "usd"},    {"balance", 0}};
  w.transport->scripted.push_back(
      answer(200, json{{"object", "list"}, {"has_more", false}, {"data", {customer}}}.dump()));
  for (int i = 0; i < 4; ++i)
    w.transport->scripted.push_back(answer(200, R"({"object":"list","has_more":false,"data":[]})"));
  add_vendor(w, "pay", "stripe", "https://api.stripe.com", "sk_test_1");
  w.sched->run();
  auto s = w.status("pay");
  REQUIRE(s["running"] == true);
  CHECK(s["progress"]["waiting"].get<std::string>().find("rate limited") != std::string::npos);
  CHECK(w.transport->urls.size() == 1);
  // Full jitter under the first ceiling (500 ms): retried by then, not given up on.
  w.sched->advance_time(milliseconds(500));
  w.sched->run();
  CHECK(w.transport->urls.size() > 1);
  w.settle();
  CHECK(w.status("pay")["status"] == "active");
  CHECK(w.lmdb->record_counts("pay")["customers"] == 1);
  CHECK(w.transport->urls[1] == "https://api.stripe.com/v1/customers?limit=100");
}

TEST_CASE(
    "ecb_fx: the base URL defaults to the ECB's; a full pass of the next day deletes nothing") {
  world w;
  w.start();
  w.transport->scripted.push_back(answer(200, ecb_day));
  // No base URL, no streams: the kind's defaults.
  auto [code, body] = w.call(
      "add", "",
      {{"config",
        {{"name", "fx"}, {"connector", "ecb_fx"}, {"schedule", "manual"}, {"manual_burst", 10}}},
       {"run_after_save", true}});
  INFO(body.dump());
  REQUIRE(code == 0);
  w.settle();
  CHECK(w.call("show", "fx").second["config"]["base_url"] ==
        "https://www.ecb.europa.eu/stats/eurofxref");
  CHECK(w.lmdb->record_counts("fx")["fx_rates"] == 2);

  std::string next_day = ecb_day;
  next_day.replace(next_day.find("2026-11-24"), 10, "2026-11-25");
  w.transport->scripted.push_back(answer(200, next_day));
  CHECK(w.call("sync", "fx", {{"full", true}}).first == 0);
  w.settle();
  // The day before is absent from the file, not gone: still there, not a tombstone.
  CHECK(w.lmdb->record_counts("fx")["fx_rates"] == 4);
  auto [rc, rows] = w.call("records", "fx", {{"stream", "fx_rates"}});
  REQUIRE(rc == 0);
  CHECK(rows["records"].size() == 4);
}

namespace {

constexpr const char* xero_invoice =
    R"({"Type":"ACCREC","InvoiceID":"inv-1","InvoiceNumber":"INV-1",
  "Contact":{"ContactID":"c-1","Name":"Barney"},"Date":"/Date(1539993600000+0000)/",
  "DueDate":"/Date(1546128000000+0000)/","Status":"AUTHORISED","SubTotal":40.00,"TotalTax":0.00,
  "Total":40.00,"AmountDue":40.00,"AmountPaid":0.00,"CurrencyCode":"NZD",
  "UpdatedDateUTC":"/Date(1541176290160+0000)/"})";

void add_xero(world& w, const std::string& schedule, const std::string& name = "books",
              json settings = json::object(),
              const std::string& base = "https://api.xero.com/api.xro/2.0") {
  integration_config c;
  c.name = name;
  c.connector = "xero";
  c.base_url = base;
  c.api_key = "access-token";
  c.schedule = schedule;
  c.manual_burst = 10;
  c.settings = json{{"tenant_id", "45e4708e-d862-4111-ab3a-dd8cd03913e1"}};
  if (settings.is_object()) c.settings.update(settings);
  c.streams = find_connector_kind("xero")->default_streams();
  auto [code, body] = w.call("add", "", {{"config", to_json(c, true)}, {"run_after_save", true}});
  INFO(body.dump());
  REQUIRE(code == 0);
}

http_response xero_page(const std::string& collection, const std::string& items,
                        header_list headers = {}) {
  return answer(200,
                R"({"Status":"OK","pagination":{"page":1,"pageSize":100,"pageCount":1,)"
                R"("itemCount":1},")" +
                    collection + "\":[" + items + "]}",
                std::move(headers));
}

}  // namespace

TEST_CASE(
    "xero through the engine: a minute 429 waits its Retry-After, and a spent "
    "X-MinLimit-Remaining pauses the next request instead of running into a 429") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(429, "", {{"Retry-After", "30"}, {"X-Rate-Limit-Problem", "minute"}}));
  w.transport->scripted.push_back(
      xero_page("Invoices", xero_invoice, {{"X-MinLimit-Remaining", "0"}}));
  for (auto coll : {"Contacts", "Payments", "BankTransactions", "Accounts"})
    w.transport->scripted.push_back(xero_page(coll, ""));
  add_xero(w, "manual");
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  CHECK(w.status("books")["progress"]["waiting"].get<std::string>().find("rate limited") !=
        std::string::npos);
  w.sched->advance_time(seconds(29));
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);  // Retry-After, not a jittered guess
  w.sched->advance_time(seconds(1));
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 2);
  CHECK(w.lmdb->record_counts("books")["invoices"] == 1);
  // The minute's quota is spent: contacts wait a minute rather than collect a 429.
  CHECK(w.status("books")["progress"]["waiting"].get<std::string>().find("quota is spent") !=
        std::string::npos);
  w.sched->advance_time(seconds(59));
  w.sched->run();
  CHECK(w.transport->urls.size() == 2);
  w.sched->advance_time(seconds(1));
  w.sched->run();
  w.settle();
  CHECK(w.transport->urls.size() == 6);
  CHECK(w.transport->urls[2].find("/Contacts?") != std::string::npos);
  CHECK(w.status("books")["status"] == "active");
}

TEST_CASE(
    "xero through the engine: a day-limit 429 ends the run at once, burning no retries, and "
    "no scheduled run comes before the limit resets") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(429, "", {{"Retry-After", "43200"}, {"X-Rate-Limit-Problem", "day"}}));
  add_xero(w, "every 15m");
  w.sched->run();
  auto s = w.status("books");
  CHECK(s["running"] == false);
  CHECK(s["last_error"]["category"] == "rate_limited");
  CHECK(s["paused"].get<std::string>().find("rate limit is used up") != std::string::npos);
  CHECK(w.transport->urls.size() == 1);
  // Twelve hours of the schedule firing every 15 minutes: not one call before the reset.
  for (int i = 0; i < 47; ++i) {
    w.sched->advance_time(minutes(15));
    w.sched->run();
  }
  CHECK(w.transport->urls.size() == 1);
  for (auto coll : {"Invoices", "Contacts", "Payments", "BankTransactions", "Accounts"})
    w.transport->scripted.push_back(xero_page(coll, ""));
  // The reset passes: the next fire runs.
  for (int i = 0; i < 2 && w.transport->urls.size() == 1; ++i) {
    w.sched->advance_time(minutes(15));
    w.sched->run();
  }
  w.settle();
  CHECK(w.transport->urls.size() == 6);
  CHECK(w.status("books")["status"] == "active");
}

TEST_CASE("bank_statement through the engine: files move once committed, a bad one is logged") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / "ledgersync-actor-drop";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto mt940 = sandbox::mt940_statement(1, 1);
  std::ofstream(dir / "a.sta") << mt940;
  std::ofstream(dir / "b.sta") << ":20:X\n:61:garbage\n";
  world w;
  w.start();
  // The transport is scripted: the files' bytes in the order the connector asks for them,
  // then the 404 of "no file waiting".
  w.transport->scripted.push_back(answer(200, mt940));
  w.transport->scripted.push_back(answer(200, ":20:X\n:61:garbage\n"));
  w.transport->scripted.push_back(answer(404, ""));
  integration_config c;
  c.name = "bank";
  c.connector = "bank_statement";
  c.base_url = "file:///";
  c.schedule = "manual";
  c.settings = {{"folder", dir.string()}};
  c.streams = find_connector_kind("bank_statement")->default_streams();
  auto [code, body] = w.call("add", "", {{"config", to_json(c, true)}, {"run_after_save", true}});
  INFO(body.dump());
  REQUIRE(code == 0);
  w.settle();
  CHECK(w.status("bank")["status"] == "active");
  CHECK(w.lmdb->record_counts("bank")["statements"] == 5);
  REQUIRE(w.transport->urls.size() == 3);
  CHECK(w.transport->urls[0] == "file://" + (dir / "a.sta").string());
  CHECK(fs::exists(dir / "processed" / "a.sta"));
  CHECK(fs::exists(dir / "rejected" / "b.sta"));
  CHECK_FALSE(fs::exists(dir / "a.sta"));
  int rejected = 0;
  for (auto& e : w.call("logs", "bank").second)
    if (e["event"] == "rejected") {
      ++rejected;
      CHECK(e["message"].get<std::string>().rfind("b.sta moved to rejected/: MT940: ", 0) == 0);
    }
  CHECK(rejected == 1);
  // By entity: balances share the statements' stream with the entries; each record says which.
  int entries = 0, balances = 0;
  auto all = w.call("records", "bank", {{"limit", 100}}).second;
  for (auto& r : all["records"]) ++(r["record"]["entity"] == "balance" ? balances : entries);
  REQUIRE(balances > 0);
  REQUIRE(entries > 0);
  auto [bc, bal] = w.call("records", "bank", {{"entity", "balance"}, {"limit", 100}});
  REQUIRE(bc == 0);
  CHECK(bal["records"].size() == static_cast<size_t>(balances));
  for (auto& r : bal["records"]) CHECK(r["record"]["entity"] == "balance");
  auto [tc, tx] = w.call("records", "bank", {{"entity", "bank_transaction"}, {"limit", 100}});
  REQUIRE(tc == 0);
  CHECK(tx["records"].size() == static_cast<size_t>(entries));
  // Paged one at a time, the filter still reads on past the other entity's records.
  size_t paged = 0;
  json after = nullptr;
  for (int i = 0; i < 10; ++i) {
    json args{{"entity", "balance"}, {"limit", 1}};
    if (!after.is_null()) args["after"] = after;
    auto [pc, one] = w.call("records", "bank", args);
    REQUIRE(pc == 0);
    paged += one["records"].size();
    after = one["next"];
    if (after.is_null()) break;
  }
  CHECK(paged == static_cast<size_t>(balances));
  // The change feed says the same: each entry its record's own entity, not the stream's.
  auto [fc, feed] =
      w.call("changes", "", {{"integration", "bank"}, {"limit", 1000}, {"with_records", true}});
  REQUIRE(fc == 0);
  int fed_balances = 0;
  for (auto& c : feed["changes"]) {
    INFO(c.dump());
    if (c["op"] != "upsert" || c["record"].is_null()) continue;
    CHECK(c["entity"] == c["record"]["entity"]);
    fed_balances += c["entity"] == "balance";
  }
  CHECK(fed_balances >= balances);
  auto [nc, none] = w.call("records", "bank", {{"entity", "invoice"}});
  CHECK(nc == 4);
  CHECK(none["error"].get<std::string>().find("its entities are balance, bank_transaction") !=
        std::string::npos);
  fs::remove_all(dir);
}

namespace {

std::string odata_collection(const std::string& set, const std::string& modified) {
  return R"({"@odata.context":"$metadata#)" + set + R"(","value":[{"No":"1","Name":"A",)" +
         R"("Email":"a@example.com","CurrencyCode":"EUR","Modified":")" + modified + R"("}]})";
}

json odata_set(const std::string& name) {
  return {{"name", name},
          {"entity", "customer"},
          {"modified_field", "Modified"},
          {"id_field", "No"},
          {"field_map", {{"fields", {{"name", "Name"}, {"email", "Email"}}}}}};
}

}  // namespace

TEST_CASE("configuring odata's entity_sets: a new set reads in full, a kept one incrementally") {
  world w;
  w.start();
  integration_config c;
  c.name = "erp";
  c.connector = "odata";
  c.base_url = "https://erp.example/odata";
  c.schedule = "manual";
  c.manual_burst = 10;
  c.settings = {{"entity_sets", json::array({odata_set("Customers"), odata_set("Vendors")})}};
  w.transport->scripted.push_back(
      answer(200, odata_collection("Customers", "2026-11-20T10:00:00Z")));
  w.transport->scripted.push_back(answer(200, odata_collection("Vendors", "2026-11-20T11:00:00Z")));
  auto conf = to_json(c, true);
  conf.erase("streams");  // as the CLI adds it: the streams come from entity_sets
  auto [code, body] = w.call("add", "", {{"config", conf}, {"run_after_save", true}});
  INFO(body.dump());
  REQUIRE(code == 0);
  w.settle();
  REQUIRE(w.transport->urls.size() == 2);
  CHECK(w.lmdb->cursors("erp").count("Vendors") == 1);

  // Customers stays, Vendors goes, Contacts comes.
  auto sets = json::array({odata_set("Customers"), odata_set("Contacts")});
  auto [cc, cb] =
      w.call("configure", "erp", {{"changes", {{"settings", {{"entity_sets", sets}}}}}});
  INFO(cb.dump());
  REQUIRE(cc == 0);
  CHECK(cb["streams"]["added"] == json::array({"Contacts"}));
  CHECK(cb["streams"]["removed"] == json::array({"Vendors"}));
  CHECK(cb["streams"]["restarted"].empty());
  CHECK(cb["streams_note"].get<std::string>().find("their records are kept") != std::string::npos);
  auto shown = w.call("show", "erp").second["config"]["streams"];
  REQUIRE(shown.size() == 2);
  CHECK(shown[1]["name"] == "Contacts");
  CHECK(w.lmdb->cursors("erp").count("Vendors") == 0);
  CHECK(w.lmdb->cursors("erp").count("Customers") == 1);

  w.transport->scripted.push_back(
      answer(200, odata_collection("Customers", "2026-11-21T10:00:00Z")));
  w.transport->scripted.push_back(
      answer(200, odata_collection("Contacts", "2026-11-21T11:00:00Z")));
  REQUIRE(w.call("sync", "erp").first == 0);
  w.settle();
  REQUIRE(w.transport->urls.size() == 4);
  // The kept set from its watermark, the new one in full; the removed one is not asked.
  CHECK(w.transport->urls[2].find("/Customers?$filter=Modified%20gt%202026-11-20T10:00:00Z") !=
        std::string::npos);
  CHECK(w.transport->urls[3].find("/Contacts?") != std::string::npos);
  CHECK(w.transport->urls[3].find("$filter") == std::string::npos);
  CHECK(w.status("erp")["status"] == "active");
  // The removed set's records stay.
  CHECK(w.lmdb->record_counts("erp")["Vendors"] == 1);
}

namespace {

// Page `page` of `count`, one invoice on each (settings.page_size 1).
http_response xero_invoice_page(int page, int count, header_list headers = {}) {
  return answer(200,
                R"({"Status":"OK","pagination":{"page":)" + std::to_string(page) +
                    R"(,"pageSize":1,"pageCount":)" + std::to_string(count) + R"(,"itemCount":)" +
                    std::to_string(count) + R"(},"Invoices":[)" + xero_invoice + "]}",
                std::move(headers));
}

// An empty last page that serves whichever stream asks (the integrations' calls interleave).
http_response xero_any_empty() {
  return answer(200, R"({"Status":"OK","pagination":{"page":1,"pageSize":100,"pageCount":1,)"
                     R"("itemCount":0},"Invoices":[],"Contacts":[],"Payments":[],)"
                     R"("BankTransactions":[],"Accounts":[]})");
}

}  // namespace

TEST_CASE("xero's default rate: 60 calls a minute, evenly spaced, so the 61st waits") {
  world w;
  w.start();
  for (int p = 1; p <= 70; ++p) w.transport->scripted.push_back(xero_invoice_page(p, 70));
  add_xero(w, "manual", "books", {{"page_size", 1}});
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  CHECK(w.status("books")["progress"]["waiting"] == "pacing upstream calls");
  for (int s = 1; s < 60; ++s) {
    w.sched->advance_time(seconds(1));
    w.sched->run();
    REQUIRE(w.transport->urls.size() == static_cast<size_t>(s + 1));
  }
  // 60 calls within the minute; the 61st comes only when the minute since the first is over.
  w.sched->advance_time(milliseconds(999));
  w.sched->run();
  CHECK(w.transport->urls.size() == 60);
  w.sched->advance_time(milliseconds(1));
  w.sched->run();
  CHECK(w.transport->urls.size() == 61);
  CHECK(w.transport->urls[60].find("page=61") != std::string::npos);
}

TEST_CASE(
    "xero's per-app limit: a spent X-AppMinLimit-Remaining holds every integration of the "
    "app for the minute, and none of another app") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      xero_page("Invoices", xero_invoice,
                {{"X-AppMinLimit-Remaining", "0"}, {"X-MinLimit-Remaining", "59"}}));
  for (int i = 0; i < 14; ++i) w.transport->scripted.push_back(xero_any_empty());
  add_xero(w, "manual", "books");
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 1);
  // Another organisation of the same app (the same Xero host until sign-in names a client id):
  // it has not called yet, but the app's minute is spent.
  add_xero(w, "manual", "books2", {{"tenant_id", "0b1f7a5c-5e6b-4a63-9d3a-1b2c3d4e5f60"}});
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  for (auto name : {"books", "books2"}) {
    w.sched->advance_time(seconds(1));  // past the own pacing: the shared budget holds them
    w.sched->run();
    INFO(name);
    CHECK(w.status(name)["progress"]["waiting"].get<std::string>().find(
              "shared with its other integrations") != std::string::npos);
  }
  CHECK(w.transport->urls.size() == 1);
  // An integration of another app is not held.
  add_xero(w, "manual", "elsewhere", {}, "https://xero.example.test/api.xro/2.0");
  w.sched->run();
  CHECK(w.transport->urls.size() == 2);
  CHECK(w.transport->urls[1].find("https://xero.example.test/") == 0);
  w.sched->advance_time(seconds(57));
  w.sched->run();
  auto held = w.transport->urls.size();
  for (size_t i = 1; i < held; ++i)
    CHECK(w.transport->urls[i].find("api.xero.com") == std::string::npos);
  // The app's minute is over: both go on, and finish.
  w.sched->advance_time(seconds(1));
  w.sched->run();
  w.settle();
  for (auto name : {"books", "books2", "elsewhere"}) {
    INFO(name);
    CHECK(w.status(name)["status"] == "active");
  }
  size_t app_calls = 0;
  for (auto& u : w.transport->urls) app_calls += u.find("api.xero.com") != std::string::npos;
  CHECK(app_calls == 10);
}

TEST_CASE(
    "xero's per-app limit: a 429 naming appminute holds every integration of the app for its "
    "Retry-After, not only the one it answered") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(429, "", {{"Retry-After", "20"}, {"X-Rate-Limit-Problem", "appminute"}}));
  for (int i = 0; i < 10; ++i) w.transport->scripted.push_back(xero_any_empty());
  add_xero(w, "manual", "books");
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 1);
  CHECK(w.status("books")["progress"]["waiting"].get<std::string>().find("rate limited") !=
        std::string::npos);
  // Another organisation of the same app starts now: it has never been refused, yet waits.
  add_xero(w, "manual", "books2", {{"tenant_id", "0b1f7a5c-5e6b-4a63-9d3a-1b2c3d4e5f60"}});
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  CHECK(w.status("books2")["progress"]["waiting"].get<std::string>().find(
            "shared with its other integrations") != std::string::npos);
  w.sched->advance_time(seconds(19));
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  // Retry-After is over: both go on (the app's calls spaced 6 ms apart), and finish.
  w.sched->advance_time(seconds(1));
  w.sched->run();
  CHECK(w.transport->urls.size() == 2);
  w.sched->advance_time(milliseconds(6));
  w.sched->run();
  CHECK(w.transport->urls.size() == 3);
  w.settle();
  for (auto name : {"books", "books2"}) {
    INFO(name);
    CHECK(w.status(name)["status"] == "active");
  }
  CHECK(w.transport->urls.size() == 11);
}

TEST_CASE(
    "xero through the engine: X-DayLimit-Remaining 0 commits its page, ends the run before "
    "Xero refuses a call, and holds scheduled and manual runs for the hour") {
  world w;
  w.start();
  w.transport->scripted.push_back(xero_invoice_page(1, 3, {{"X-DayLimit-Remaining", "1"}}));
  w.transport->scripted.push_back(xero_invoice_page(2, 3, {{"X-DayLimit-Remaining", "0"}}));
  add_xero(w, "every 15m", "books", {{"page_size", 1}});
  w.settle(minutes(1));
  auto s = w.status("books");
  CHECK(s["running"] == false);
  CHECK(w.transport->urls.size() == 2);  // no third call to be refused
  CHECK(w.lmdb->record_counts("books")["invoices"] == 1);
  CHECK(s["last_error"]["category"] == "rate_limited");
  CHECK(s["last_error"]["message"].get<std::string>().find(
            "Xero's daily limit of 5,000 calls for this organisation is spent") !=
        std::string::npos);
  CHECK(s["paused"].get<std::string>().find("rate limit is used up") != std::string::npos);
  bool logged = false;
  for (auto& e : w.call("logs", "books").second)
    if (e["event"] == "run_finished") {
      logged = true;
      CHECK(e["category"] == "rate_limited");
      CHECK(e["counts"]["fetched"] == 2);
      CHECK(e["hint"].get<std::string>().find("syncs resume when Xero's rolling day frees calls") !=
            std::string::npos);
    }
  CHECK(logged);
  // Sync now is refused with when syncs resume, not sent to Xero.
  auto refused = w.call("sync", "books");
  CHECK(refused.first != 0);
  CHECK(w.last_kind == error_kind::rate_limited);
  CHECK(refused.second.dump().find("Xero's daily limit") != std::string::npos);
  CHECK(refused.second.dump().find("syncs resume at 2026-11-23T11:00:01") != std::string::npos);
  CHECK(w.last_retry_after_ms > 3'500'000);
  CHECK(w.transport->urls.size() == 2);
  // Three scheduled fires within the hour: none calls.
  for (int i = 0; i < 3; ++i) {
    w.sched->advance_time(minutes(15));
    w.sched->run();
  }
  CHECK(w.transport->urls.size() == 2);
  w.transport->scripted.push_back(xero_invoice_page(3, 3));
  for (auto coll : {"Contacts", "Payments", "BankTransactions", "Accounts"})
    w.transport->scripted.push_back(xero_page(coll, ""));
  for (int i = 0; i < 2 && w.transport->urls.size() == 2; ++i) {
    w.sched->advance_time(minutes(15));
    w.sched->run();
  }
  w.settle();
  // The hour is over: the next run resumes the pass at its third page.
  REQUIRE(w.transport->urls.size() == 7);
  CHECK(w.transport->urls[2].find("page=3") != std::string::npos);
  CHECK(w.status("books")["status"] == "active");
}

namespace {

void add_kind(world& w, const std::string& name, const std::string& kind, const std::string& base,
              json settings) {
  integration_config c;
  c.name = name;
  c.connector = kind;
  c.base_url = base;
  c.api_key = "access-token";
  c.schedule = "manual";
  c.manual_burst = 10;
  c.settings = std::move(settings);
  c.streams = find_connector_kind(kind)->default_streams();
  auto [code, body] = w.call("add", "", {{"config", to_json(c, true)}, {"run_after_save", true}});
  INFO(body.dump());
  REQUIRE(code == 0);
}

http_response sage_list(json items) {
  return answer(200, json{{"$total", items.size()},
                          {"$page", 1},
                          {"$next", nullptr},
                          {"$back", nullptr},
                          {"$itemsPerPage", 200},
                          {"$items", items}}
                         .dump());
}

// The contacts page and the four empty lists that follow it in a first sage pass.
void script_sage_pass(world& w) {
  auto contact = json::parse(read_fixture("sage/contact.json"));
  auto other = contact;
  other["id"] = "9a4d3b0fd2f211e9b2c40b7bb2b2c2d2";
  other["name"] = "Bolt Supplies Ltd";
  w.transport->scripted.push_back(sage_list(json::array({contact, other})));
  for (int i = 0; i < 4; ++i) w.transport->scripted.push_back(sage_list(json::array()));
}

json finished_counts(world& w, const std::string& name) {
  for (auto& e : w.call("logs", name).second)
    if (e["event"] == "run_finished") return e["counts"];
  return nullptr;
}

constexpr const char* sage_base = "https://api.accounting.sage.com/v3.1";
const json sage_settings = {{"business_id", "b1b2b3"}};

}  // namespace

TEST_CASE("sage through the engine: a 429 waits exactly its Retry-After, then reads to the end") {
  world w;
  w.start();
  w.transport->scripted.push_back(answer(
      429,
      R"([{"$severity":"error","$dataCode":"TooManyRequests","$message":"Too many requests"}])",
      {{"Retry-After", "42"}}));
  script_sage_pass(w);
  add_kind(w, "sagebooks", "sage", sage_base, sage_settings);
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 1);
  CHECK(w.status("sagebooks")["progress"]["waiting"].get<std::string>().find("rate limited") !=
        std::string::npos);
  w.sched->advance_time(seconds(41));
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  w.sched->advance_time(seconds(1));
  w.sched->run();
  CHECK(w.transport->urls.size() > 1);
  w.settle();
  REQUIRE(w.transport->urls.size() == 6);
  CHECK(w.transport->urls[0] == w.transport->urls[1]);  // the same page again
  CHECK(w.status("sagebooks")["status"] == "active");
  CHECK(w.lmdb->record_counts("sagebooks")["contacts"] == 2);
  auto counts = finished_counts(w, "sagebooks");
  CHECK(counts["fetched"] == 2);
  CHECK(counts["inserted"] == 2);
  CHECK(counts["invalid"] == 0);
}

TEST_CASE("sage through the engine: an unreadable Retry-After falls back to the policy's backoff") {
  world w;
  w.start();
  w.transport->scripted.push_back(answer(429, "", {{"Retry-After", "in a while"}}));
  script_sage_pass(w);
  add_kind(w, "sagebooks", "sage", sage_base, sage_settings);
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 1);
  // Full jitter under the first ceiling (500 ms), not a wait read from the header.
  w.sched->advance_time(milliseconds(500));
  w.sched->run();
  CHECK(w.transport->urls.size() > 1);
  w.settle();
  CHECK(w.status("sagebooks")["status"] == "active");
  CHECK(finished_counts(w, "sagebooks")["inserted"] == 2);
}

namespace {

constexpr const char* qbo_base = "https://quickbooks.api.intuit.com/v3/company";
const json qbo_settings = {{"realm_id", "9130350000000000"}};

// A query answer without "time": the pass then ends without Change Data Capture.
http_response qbo_list(const std::string& entity, json items) {
  json qr = json::object();
  if (!items.empty()) qr[entity] = items;
  return answer(200, json{{"QueryResponse", qr}}.dump());
}

std::string qbo_throttle_fault() {
  return R"({"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; )"
         R"(statusCode=429","Detail":"The request limit was reached.","code":"3001"}],)"
         R"("type":"ThrottleExceeded"},"time":"2026-11-23T02:00:00.000-08:00"})";
}

void script_qbo_pass(world& w) {
  auto customer = json::parse(read_fixture("quickbooks/customer.json"));
  w.transport->scripted.push_back(qbo_list("Customer", json::array({customer})));
  for (auto e : {"Invoice", "Payment", "Account"})
    w.transport->scripted.push_back(qbo_list(e, json::array()));
}

}  // namespace

TEST_CASE(
    "quickbooks through the engine: a throttle Fault inside an HTTP 200 and a 429 are retried, "
    "not stored, after Intuit's 60 s or the Retry-After given") {
  world w;
  w.start();
  w.transport->scripted.push_back(answer(200, qbo_throttle_fault()));
  w.transport->scripted.push_back(answer(429, qbo_throttle_fault(), {{"Retry-After", "7"}}));
  script_qbo_pass(w);
  add_kind(w, "qbo", "quickbooks", qbo_base, qbo_settings);
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 1);
  CHECK(w.status("qbo")["progress"]["waiting"].get<std::string>().find("rate limited") !=
        std::string::npos);
  w.sched->advance_time(seconds(59));
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  w.sched->advance_time(seconds(1));
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 2);
  w.sched->advance_time(seconds(6));
  w.sched->run();
  CHECK(w.transport->urls.size() == 2);
  w.sched->advance_time(seconds(1));
  w.sched->run();
  CHECK(w.transport->urls.size() == 3);
  w.settle();
  REQUIRE(w.transport->urls.size() == 6);
  CHECK(w.transport->urls[0] == w.transport->urls[2]);
  CHECK(w.status("qbo")["status"] == "active");
  CHECK(w.lmdb->record_counts("qbo")["customers"] == 1);
  auto counts = finished_counts(w, "qbo");
  CHECK(counts["fetched"] == 1);
  CHECK(counts["inserted"] == 1);
  CHECK(counts["invalid"] == 0);
}

TEST_CASE(
    "quickbooks through the engine: a 429 without a Fault body or a readable Retry-After waits "
    "Intuit's 60 s") {
  world w;
  w.start();
  w.transport->scripted.push_back(
      answer(429, "<html><body>Too Many Requests</body></html>", {{"Retry-After", "soon"}}));
  script_qbo_pass(w);
  add_kind(w, "qbo", "quickbooks", qbo_base, qbo_settings);
  w.sched->run();
  REQUIRE(w.transport->urls.size() == 1);
  w.sched->advance_time(seconds(59));
  w.sched->run();
  CHECK(w.transport->urls.size() == 1);
  w.sched->advance_time(seconds(1));
  w.sched->run();
  CHECK(w.transport->urls.size() == 2);
  w.settle();
  CHECK(w.status("qbo")["status"] == "active");
  CHECK(w.lmdb->record_counts("qbo")["customers"] == 1);
}
