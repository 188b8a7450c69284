// Write-back to Xero and Sage: the canonical -> vendor bodies and the vendors' errors back
// (model/push_xero, model/push_sage), the writers on canned answers shaped as the vendors
// document them, and the writers driven against the sandbox's handlers directly (no socket):
// idempotent replay, a write whose answer is lost, version conflicts, validation errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/push.hpp"
#include "model/map_sage.hpp"
#include "model/map_xero.hpp"
#include "model/push_sage.hpp"
#include "model/push_xero.hpp"
#include "sandbox/vendor_sage.hpp"
#include "sandbox/vendor_xero.hpp"

using namespace ledgersync;
using nlohmann::json;

namespace {

integration_config xero_config() {
  integration_config c;
  c.name = "books";
  c.connector = "xero";
  c.base_url = "http://127.0.0.1:9/xero/api.xro/2.0";
  c.api_key = "tok";
  c.settings = {{"tenant_id", "tenant-1"}};
  return c;
}

integration_config sage_config() {
  integration_config c;
  c.name = "ledger";
  c.connector = "sage";
  c.base_url = "http://127.0.0.1:9/sage/v3.1";
  c.api_key = "tok";
  c.settings = {{"business_id", "biz1"}};
  return c;
}

push_item item(std::string entity, push_op op, std::string ext, json fields) {
  push_item it;
  it.entity = std::move(entity);
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

// A Xero contact as Xero answers a PUT (the spec's example, trimmed).
const char* const kXeroContactAnswer =
    R"({"Id":"e997d6d7-6dad-4458-beb8-d9c1bf7f2edf","Status":"OK","ProviderName":"Xero API Partner","DateTimeUTC":"\/Date(1551399321121)\/","Contacts":[{"ContactID":"3ff6d40c-af9a-40a3-89ce-3c1556a25591","ContactNumber":"C-1","ContactStatus":"ACTIVE","Name":"Foo9987","EmailAddress":"sid32476@blah.com","UpdatedDateUTC":"\/Date(1551399321043+0000)\/","IsSupplier":false,"IsCustomer":false}]})";

}  // namespace

TEST_CASE("Xero bodies carry the external_id on the record and amounts as exact numbers",
          "[push][xero]") {
  auto contact = model::xero_contact_body(
      {{"name", "ABC Limited"}, {"email", "a@b.com"}, {"phone", "7946 0001"}, {"currency", "GBP"}},
      "C-1", "");
  CHECK(
      contact ==
      R"({"Contacts":[{"ContactNumber":"C-1","DefaultCurrency":"GBP","EmailAddress":"a@b.com","Name":"ABC Limited","Phones":[{"PhoneNumber":"7946 0001","PhoneType":"DEFAULT"}]}]})");
  auto inv = model::xero_invoice_body({{"customer_id", "c-9"},
                                       {"number", "INV-7"},
                                       {"issue_date", "2026-11-01"},
                                       {"due_date", "2026-12-01"},
                                       {"currency", "GBP"},
                                       {"status", "open"},
                                       {"lines",
                                        {{{"description", "Consulting"},
                                          {"quantity", "2.5"},
                                          {"unit_price", "12345678901234.57"},
                                          {"account_code", "200"},
                                          {"tax_code", "OUTPUT2"}},
                                         {{"description", "Fee"}, {"unit_price", "0.10"}}}}},
                                      "INV-EXT-1", "");
  CHECK(
      inv ==
      R"({"Invoices":[{"Contact":{"ContactID":"c-9"},"CurrencyCode":"GBP","Date":"2026-11-01","DueDate":"2026-12-01","InvoiceNumber":"INV-7","LineAmountTypes":"Exclusive","LineItems":[{"AccountCode":"200","Description":"Consulting","Quantity":2.5,"TaxType":"OUTPUT2","UnitAmount":12345678901234.57},{"Description":"Fee","Quantity":1,"UnitAmount":0.10}],"Reference":"INV-EXT-1","Status":"AUTHORISED","Type":"ACCREC"}]})");
  CHECK(
      model::xero_payment_body(
          {{"invoice_id", "i-1"}, {"account", "090"}, {"date", "2026-11-02"}, {"amount", "32.50"}},
          "P-1") ==
      R"({"Payments":[{"Account":{"Code":"090"},"Amount":32.50,"Date":"2026-11-02","Invoice":{"InvoiceID":"i-1"},"Reference":"P-1"}]})");
}

TEST_CASE("Xero's validation messages map to our field names", "[push][xero]") {
  // As Xero documents a refused payment, and an invoice line's account code.
  auto pay = model::xero_validation_errors(
      R"({"ErrorNumber":10,"Type":"ValidationException","Message":"A validation exception occurred","Elements":[{"Amount":1000.00,"ValidationErrors":[{"Message":"Payment amount exceeds the amount outstanding on this document"}]}]})",
      "payment", json::object());
  REQUIRE(pay.size() == 1);
  CHECK(pay[0].field == "amount");
  json fields = {{"lines", {{{"account_code", "200"}}, {{"account_code", "999"}}}}};
  auto inv = model::xero_validation_errors(
      R"({"ErrorNumber":10,"Type":"ValidationException","Message":"A validation exception occurred","Elements":[{"ValidationErrors":[{"Message":"Account code '999' is not a valid code for this document."},{"Message":"Email address must be valid."}]}]})",
      "invoice", fields);
  REQUIRE(inv.size() == 2);
  CHECK(inv[0].field == "lines/1/account_code");
  auto contact = model::xero_validation_errors(
      R"({"Type":"ValidationException","Elements":[{"ValidationErrors":[{"Message":"Email address must be valid."}]}]})",
      "customer", json::object());
  CHECK(contact.at(0).field == "email");
  CHECK(model::xero_validation_errors("not json", "customer", json::object()).empty());
  CHECK(model::same_xero_version("/Date(1551399321043+0000)/", "/Date(1551399321043+0000)/"));
  CHECK_FALSE(model::same_xero_version("/Date(1551399321043+0000)/", "/Date(1551399321044+0000)/"));
  CHECK(model::same_xero_version("/Date(1551399321000+0000)/", "2019-03-01T00:15:21Z"));
}

TEST_CASE("Sage bodies follow v3.1's create shapes and its $source names our fields",
          "[push][sage]") {
  CHECK(
      model::sage_contact_body({{"name", "Great Example Inc"}, {"email", "a@b.com"}}, "C-1") ==
      R"({"contact":{"contact_type_ids":["CUSTOMER"],"main_contact_person":{"email":"a@b.com","is_main_contact":true},"name":"Great Example Inc","reference":"C-1"}})");
  CHECK(
      model::sage_invoice_body({{"customer_id", "crd-001"},
                                {"issue_date", "2026-05-02"},
                                {"due_date", "2026-06-01"},
                                {"lines",
                                 {{{"description", "Web Development"},
                                   {"quantity", "40"},
                                   {"unit_price", "150.00"},
                                   {"account_code", "la-sales"},
                                   {"tax_code", "GB_STANDARD"}}}}},
                               "INV-2026-001") ==
      R"({"sales_invoice":{"contact_id":"crd-001","date":"2026-05-02","due_date":"2026-06-01","invoice_lines":[{"description":"Web Development","ledger_account_id":"la-sales","quantity":40,"tax_rate_id":"GB_STANDARD","unit_price":150.00}],"reference":"INV-2026-001"}})");
  auto refund = json::parse(model::sage_payment_body(
      {{"customer_id", "c"}, {"account", "b"}, {"date", "2026-05-03"}, {"amount", "-6.00"}},
      "R-1"));
  CHECK(refund["contact_payment"]["transaction_type_id"] == "CUSTOMER_REFUND");
  CHECK(model::sage_payment_body({{"customer_id", "c"},
                                  {"account", "b"},
                                  {"date", "2026-05-03"},
                                  {"amount", "6.00"},
                                  {"invoice_id", "i"}},
                                 "P-1")
            .find(R"("allocated_artefacts":[{"amount":6.00,"artefact_id":"i"}])") !=
        std::string::npos);
  CHECK(model::sage_field_of_source("invoice_lines[2].ledger_account_id", "invoice") ==
        "lines/2/account_code");
  CHECK(model::sage_field_of_source("contact_id", "invoice") == "customer_id");
  CHECK(model::sage_field_of_source("main_contact_person.email", "customer") == "email");
  CHECK(model::sage_field_of_source("allocated_artefacts[0].amount", "payment") == "amount");
  auto errs = model::sage_validation_errors(
      R"([{"$severity":"error","$dataCode":"RecordInvalid","$message":"can't be blank","$source":"name"}])",
      "customer");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].field == "name");
  CHECK(errs[0].message == "can't be blank");
}

TEST_CASE("The Xero writer creates with an idempotency key and reads the answer", "[push][xero]") {
  auto cfg = xero_config();
  auto w = make_push_writer(cfg);
  REQUIRE(w);
  CHECK(w->refuses("payment", push_op::update).find("cannot be changed") != std::string::npos);
  CHECK(w->refuses("customer", push_op::update).empty());
  auto it = item("customer", push_op::create, "C-1", {{"name", "Foo9987"}});
  auto step = w->first_step(it, false);
  CHECK(step.writes);
  CHECK(step.request.method == "PUT");
  CHECK(step.request.url == "http://127.0.0.1:9/xero/api.xro/2.0/Contacts");
  CHECK(header(step.request, "Idempotency-Key") == "k-C-1-1");
  CHECK(header(step.request, "xero-tenant-id") == "tenant-1");
  // Resumed, the same request goes again under the same key.
  auto again = w->first_step(it, true);
  CHECK(again.request.body == step.request.body);
  CHECK(header(again.request, "Idempotency-Key") == "k-C-1-1");
  auto a = w->on_answer(it, step, answer(200, kXeroContactAnswer));
  CHECK(a.error.ok());
  CHECK(a.status == push_status::succeeded);
  CHECK(a.vendor_id == "3ff6d40c-af9a-40a3-89ce-3c1556a25591");
  CHECK(a.vendor_version == "/Date(1551399321043+0000)/");
}

TEST_CASE("The Xero writer maps refusals, limits and outages", "[push][xero]") {
  auto cfg = xero_config();
  auto w = make_push_writer(cfg);
  auto it = item("customer", push_op::create, "C-1", {{"name", "x"}, {"email", "nope"}});
  auto step = w->first_step(it, false);
  auto bad = w->on_answer(
      it, step,
      answer(
          400,
          R"({"ErrorNumber":10,"Type":"ValidationException","Message":"A validation exception occurred","Elements":[{"ValidationErrors":[{"Message":"Email address must be valid."}]}]})"));
  CHECK(bad.status == push_status::failed);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].field == "email");
  CHECK(bad.hint.find("email") != std::string::npos);
  auto limited = w->on_answer(
      it, step, answer(429, "", {{"X-Rate-Limit-Problem", "minute"}, {"Retry-After", "17"}}));
  CHECK(limited.error.category == error_category::rate_limited);
  CHECK(limited.error.retry_after_s == 17);
  auto app = w->on_answer(
      it, step, answer(429, "", {{"X-Rate-Limit-Problem", "appminute"}, {"Retry-After", "5"}}));
  CHECK(app.shared_pause_ms == 5000);
  auto denied = w->on_answer(it, step, answer(401, R"({"Title":"Unauthorized","Status":401})"));
  CHECK(denied.error.category == error_category::auth);
  CHECK_FALSE(denied.error.retryable());
  auto down = w->on_answer(it, step, answer(503, ""));
  CHECK(down.error.category == error_category::upstream);
  CHECK(down.error.retryable());
  http_response lost;
  lost.error = make_error_info(error_category::unreachable, "reset", true);
  CHECK(w->on_answer(it, step, lost).error.retryable());
}

TEST_CASE("A Xero update reads UpdatedDateUTC first and a changed record is a conflict",
          "[push][xero]") {
  auto cfg = xero_config();
  auto w = make_push_writer(cfg);
  auto it = item("customer", push_op::update, "C-1", {{"name", "New name"}});
  it.vendor_id = "3ff6d40c-af9a-40a3-89ce-3c1556a25591";
  it.base_version = "/Date(1551399000000+0000)/";
  auto read = w->first_step(it, false);
  CHECK(read.phase == "read");
  CHECK_FALSE(read.writes);
  CHECK(read.request.method == "GET");
  CHECK(read.request.url ==
        "http://127.0.0.1:9/xero/api.xro/2.0/Contacts/3ff6d40c-af9a-40a3-89ce-3c1556a25591");
  auto c = w->on_answer(it, read, answer(200, kXeroContactAnswer));
  CHECK(c.status == push_status::conflict);
  CHECK(c.message.find("/Date(1551399000000+0000)/") != std::string::npos);
  CHECK(c.message.find("/Date(1551399321043+0000)/") != std::string::npos);
  CHECK(c.hint ==
        "read the record again (ledgersync records books --id "
        "'3ff6d40c-af9a-40a3-89ce-3c1556a25591'), then push with the new base_version");
  it.base_version = "/Date(1551399321043+0000)/";
  auto go = w->on_answer(it, read, answer(200, kXeroContactAnswer));
  REQUIRE(go.next);
  CHECK(go.next->writes);
  CHECK(go.next->request.method == "POST");
  CHECK(json::parse(go.next->request.body)["Contacts"][0]["ContactID"] == it.vendor_id);
  // Resumed: the write may have landed and moved the version; it goes again, unread.
  CHECK(w->first_step(it, true).phase == "write");
  auto unknown = item("customer", push_op::update, "C-404", {{"name", "x"}});
  auto look = w->first_step(unknown, false);
  CHECK(look.request.url.find("/Contacts?where=ContactNumber") != std::string::npos);
  auto none = w->on_answer(unknown, look, answer(200, R"({"Contacts":[]})"));
  CHECK_FALSE(none.next);
  CHECK(none.status == push_status::failed);
  auto gone = w->on_answer(it, read, answer(404, R"({"Title":"Not Found","Status":404})"));
  CHECK(gone.status == push_status::failed);
  CHECK(gone.message.find("no longer exists at Xero") != std::string::npos);
  std::string stored =
      R"({"entity":"customer","id":"x","fields":{},"raw":{"ContactID":"x","UpdatedDateUTC":"/Date(1551399321043+0000)/"}})";
  CHECK(w->version_of("customer", stored) == "/Date(1551399321043+0000)/");
}

TEST_CASE("Xero checks what it cannot take before the item is accepted", "[push][xero]") {
  auto cfg = xero_config();
  auto w = make_push_writer(cfg);
  auto p = item("payment", push_op::create, "P-1", {{"amount", "1.00"}, {"date", "2026-11-01"}});
  auto problems = w->check(p);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].rfind("fields.invoice_external_id:", 0) == 0);
  CHECK(problems[1].rfind("fields.account:", 0) == 0);
  auto c = item("customer", push_op::create, std::string(51, 'x'), {{"name", "n"}});
  CHECK(w->check(c).size() == 1);
  auto inv = item("invoice", push_op::create, "I-1", {{"reference", "PO 1"}});
  CHECK(w->check(inv).at(0).rfind("fields.reference:", 0) == 0);
}

TEST_CASE("The Sage writer creates, looks up by reference when resumed, and maps 422s",
          "[push][sage]") {
  auto cfg = sage_config();
  auto w = make_push_writer(cfg);
  REQUIRE(w);
  auto it = item("customer", push_op::create, "C-1", {{"name", "Great Example Inc"}});
  auto step = w->first_step(it, false);
  CHECK(step.request.method == "POST");
  CHECK(step.request.url == "http://127.0.0.1:9/sage/v3.1/contacts");
  CHECK(header(step.request, "X-Business") == "biz1");
  auto made = w->on_answer(
      it, step,
      answer(
          201,
          R"({"id":"abc123","displayed_as":"Great Example Inc","reference":"C-1","updated_at":"2026-05-02T10:00:00Z"})"));
  CHECK(made.status == push_status::succeeded);
  CHECK(made.vendor_id == "abc123");
  CHECK(made.vendor_version == "2026-05-02T10:00:00Z");
  // Sage has no idempotency key: a resumed create looks for its reference first.
  auto look = w->first_step(it, true);
  CHECK(look.phase == "lookup");
  CHECK_FALSE(look.writes);
  CHECK(look.request.url.find("/contacts?search=C-1&attributes=all") != std::string::npos);
  auto found = w->on_answer(
      it, look,
      answer(
          200,
          R"({"$total":2,"$items":[{"id":"zzz","reference":"C-10"},{"id":"abc123","reference":"C-1","updated_at":"2026-05-02T10:00:00Z"}]})"));
  CHECK(found.status == push_status::succeeded);
  CHECK_FALSE(found.next);
  CHECK(found.vendor_id == "abc123");
  auto none = w->on_answer(it, look, answer(200, R"({"$total":0,"$items":[]})"));
  REQUIRE(none.next);
  CHECK(none.next->request.method == "POST");
  auto bad = w->on_answer(
      it, step,
      answer(
          422,
          R"([{"$severity":"error","$dataCode":"RecordInvalid","$message":"can't be blank","$source":"name"}])"));
  CHECK(bad.status == push_status::failed);
  CHECK(bad.errors.at(0).field == "name");
  auto limited = w->on_answer(it, step, answer(429, "[]", {{"Retry-After", "9"}}));
  CHECK(limited.error.category == error_category::rate_limited);
  CHECK(limited.error.retry_after_s == 9);
  CHECK(w->check(item("invoice", push_op::create, "I",
                      {{"customer_external_id", "C-1"},
                       {"issue_date", "2026-01-01"},
                       {"lines", {{{"description", "d"}, {"unit_price", "1"}}}}}))
            .at(0)
            .rfind("fields.lines/0/account_code:", 0) == 0);
}

TEST_CASE("A Sage update compares updated_at first", "[push][sage]") {
  auto cfg = sage_config();
  auto w = make_push_writer(cfg);
  auto it = item("customer", push_op::update, "C-1", {{"name", "New"}});
  it.vendor_id = "abc123";
  it.base_version = "2026-05-02T10:00:00Z";
  auto read = w->first_step(it, false);
  CHECK(read.request.url == "http://127.0.0.1:9/sage/v3.1/contacts/abc123");
  auto c =
      w->on_answer(it, read, answer(200, R"({"id":"abc123","updated_at":"2026-05-03T09:00:00Z"})"));
  CHECK(c.status == push_status::conflict);
  CHECK(c.hint.find("ledgersync records ledger --id 'abc123'") != std::string::npos);
  auto go =
      w->on_answer(it, read, answer(200, R"({"id":"abc123","updated_at":"2026-05-02T10:00:00Z"})"));
  REQUIRE(go.next);
  CHECK(go.next->request.method == "PUT");
  // An update of a record Sage has no trace of fails rather than creating one.
  auto unknown = item("customer", push_op::update, "C-404", {{"name", "x"}});
  auto look = w->first_step(unknown, false);
  CHECK(look.phase == "lookup");
  auto none = w->on_answer(unknown, look, answer(200, R"({"$total":0,"$items":[]})"));
  CHECK_FALSE(none.next);
  CHECK(none.status == push_status::failed);
}

// ---- the writers against the sandbox's handlers ----

namespace {

using sandbox::vendor_request;
using sandbox::vendor_response;

struct vendors {
  int64_t now = 1'790'000'000'000;
  sandbox::effect_log effects;
  sandbox::oauth_server auth{sandbox::oauth_options::defaults(), [this] { return now; }};
  sandbox::xero_api xero{[] {
                           sandbox::xero_options o;
                           o.records = 10;
                           return o;
                         }(),
                         auth, [this] { return now; }, effects};
  sandbox::sage_api sage{[] {
                           sandbox::sage_options o;
                           o.records = 10;
                           return o;
                         }(),
                         auth, [this] { return now; }, effects};
  integration_config xcfg = xero_config(), scfg = sage_config();

  vendors() {
    xcfg.api_key = token("xero-sandbox", "xero-sandbox-secret");
    xcfg.settings["tenant_id"] = xero.tenant_id();
    scfg.api_key = token("sage-sandbox", "sage-sandbox-secret");
    scfg.settings["business_id"] = sage.business_id();
  }
  std::string token(const std::string& id, const std::string& secret) {
    vendor_request r;
    r.method = "POST";
    r.path = "/oauth/token";
    r.body = "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret;
    return json::parse(auth.handle(r).body)["access_token"];
  }
  http_response send(const http_request& req) {
    bool is_xero = req.url.find("/xero/api.xro/2.0") != std::string::npos;
    std::string prefix = is_xero ? "/xero/api.xro/2.0" : "/sage/v3.1";
    auto target = req.url.substr(req.url.find(prefix) + prefix.size());
    vendor_request vr;
    REQUIRE(sandbox::make_request(req.method, target, vr));
    for (const auto& [k, v] : req.headers) {
      std::string low = k;
      for (auto& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      vr.headers[low] = v;
    }
    vr.body = req.body;
    auto out = is_xero ? xero.handle(vr) : sage.handle(vr);
    now += 1000;
    return answer(out.status, out.body, header_list(out.headers.begin(), out.headers.end()));
  }
  // Runs an item's exchange as the engine does, up to an outcome or an error.
  push_answer run(const push_writer& w, push_item& it, bool resumed) {
    auto step = w.first_step(it, resumed);
    for (int i = 0; i < 5; ++i) {
      if (step.writes) it.status = push_status::sending;
      auto a = w.on_answer(it, step, send(step.request));
      if (!a.next) return a;
      step = *a.next;
    }
    FAIL("no outcome after five steps");
    return {};
  }
  json list(const std::string& target, bool is_xero) {
    vendor_request r;
    REQUIRE(sandbox::make_request("GET", target, r));
    r.headers["authorization"] = "Bearer " + (is_xero ? xcfg.api_key : scfg.api_key);
    if (is_xero)
      r.headers["xero-tenant-id"] = xero.tenant_id();
    else
      r.headers["x-business"] = sage.business_id();
    auto out = is_xero ? xero.handle(r) : sage.handle(r);
    REQUIRE(out.status == 200);
    return json::parse(out.body);
  }
};

}  // namespace

TEST_CASE("Xero sandbox: a lost answer and the retry under the same key make one contact",
          "[push][xero][sandbox]") {
  vendors v;
  auto w = make_push_writer(v.xcfg);
  auto it = item("customer", push_op::create, "C-1",
                 {{"name", "Member One"}, {"email", "m1@example.com"}});
  REQUIRE(v.xero.fault("write_lost", 1));
  auto first = v.run(*w, it, false);
  CHECK(first.error.retryable());  // the effect happened; the answer said 500
  auto second = v.run(*w, it, true);
  REQUIRE(second.status == push_status::succeeded);
  CHECK(v.effects.creates("xero", "customer", "C-1") == 1);
  // The same key with another body is Xero's error, not a second contact.
  auto other = it;
  other.fields["name"] = "Someone Else";
  auto refused = v.run(*w, other, true);
  CHECK(refused.status == push_status::failed);
  CHECK(v.effects.creates("xero", "customer", "C-1") == 1);
  // The written contact is in the list a sync reads, and maps cleanly.
  auto doc = v.list("/Contacts?where=ContactNumber%3D%3D%22C-1%22", true);
  REQUIRE(doc["Contacts"].size() == 1);
  auto m = model::map_xero_contact(doc["Contacts"][0].dump());
  CHECK(m.problems.empty());
  CHECK(m.record.id == second.vendor_id);
  CHECK(m.record.fields["email"] == "m1@example.com");
  CHECK(v.list("/Contacts?page=1&pageSize=100", true)["Contacts"].size() == 11);  // 10 seeded + 1
}

TEST_CASE("Xero sandbox: an upsert whose create was lost is found and finished, not made twice",
          "[push][xero][sandbox]") {
  vendors v;
  auto w = make_push_writer(v.xcfg);
  auto it = item("customer", push_op::upsert, "C-9", {{"name", "Member Nine"}});
  REQUIRE(v.xero.fault("write_lost", 1));
  CHECK(v.run(*w, it, false).error.retryable());
  auto again = v.run(*w, it, true);
  REQUIRE(again.status == push_status::succeeded);
  CHECK(v.effects.creates("xero", "customer", "C-9") == 1);
  CHECK(v.list("/Contacts?where=ContactNumber%3D%3D%22C-9%22", true)["Contacts"].size() == 1);
}

TEST_CASE("Xero sandbox: invoice, payment, validation and a conflict", "[push][xero][sandbox]") {
  vendors v;
  auto w = make_push_writer(v.xcfg);
  auto c = item("customer", push_op::upsert, "C-2", {{"name", "Member Two"}});
  auto made = v.run(*w, c, false);
  REQUIRE(made.status == push_status::succeeded);
  auto inv = item("invoice", push_op::create, "I-1",
                  {{"customer_id", made.vendor_id},
                   {"number", "M-1"},
                   {"issue_date", "2026-11-01"},
                   {"due_date", "2026-12-01"},
                   {"currency", "GBP"},
                   {"status", "open"},
                   {"lines",
                    {{{"description", "Membership"},
                      {"quantity", "3"},
                      {"unit_price", "10.05"},
                      {"account_code", "999"}}}}});
  auto bad = v.run(*w, inv, false);
  CHECK(bad.status == push_status::failed);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].field == "lines/0/account_code");
  CHECK(v.effects.creates("xero", "invoice", "I-1") == 0);
  inv.fields["lines"][0]["account_code"] = "200";
  inv.fields["lines"][0]["tax_code"] = "OUTPUT2";
  inv.idempotency_key = "k-I-1-2";
  auto ok = v.run(*w, inv, false);
  REQUIRE(ok.status == push_status::succeeded);
  auto listed = v.list("/Invoices?where=Reference%3D%3D%22I-1%22", true)["Invoices"][0];
  auto m = model::map_xero_invoice(listed.dump());
  CHECK(m.problems.empty());
  CHECK(m.record.fields["subtotal"] == "30.15");
  CHECK(m.record.fields["total"] == "36.18");
  auto pay = item("payment", push_op::create, "P-1",
                  {{"invoice_id", ok.vendor_id},
                   {"account", "090"},
                   {"date", "2026-11-05"},
                   {"amount", "40.00"}});
  auto over = v.run(*w, pay, false);
  CHECK(over.status == push_status::failed);
  CHECK(over.errors.at(0).field == "amount");
  pay.fields["amount"] = "36.18";
  pay.idempotency_key = "k-P-1-2";
  REQUIRE(v.run(*w, pay, false).status == push_status::succeeded);
  auto paid = v.list("/Invoices?where=Reference%3D%3D%22I-1%22", true)["Invoices"][0];
  CHECK(paid["Status"] == "PAID");
  // Changed at Xero since the application read it: a conflict, and nothing written.
  auto upd = item("customer", push_op::update, "C-2", {{"name", "Member Two Renamed"}});
  upd.vendor_id = made.vendor_id;
  upd.base_version = "/Date(1000+0000)/";
  auto conflict = v.run(*w, upd, false);
  CHECK(conflict.status == push_status::conflict);
  upd.base_version = made.vendor_version;
  upd.idempotency_key = "k-C-2-2";
  auto changed = v.run(*w, upd, false);
  REQUIRE(changed.status == push_status::succeeded);
  CHECK_FALSE(model::same_xero_version(changed.vendor_version, made.vendor_version));
  CHECK(json::parse(v.effects.to_json())["xero"]["customer"]["C-2"] ==
        json({{"creates", 1}, {"updates", 1}}));
}

TEST_CASE("Xero sandbox: write faults answer as Xero would and cost no effect",
          "[push][xero][sandbox]") {
  vendors v;
  auto w = make_push_writer(v.xcfg);
  auto it = item("customer", push_op::create, "C-3", {{"name", "Member Three"}});
  REQUIRE(v.xero.fault("write_429", 1));
  REQUIRE(v.xero.fault("write_500", 1));
  CHECK_FALSE(v.xero.fault("nonsense", 1));
  auto limited = v.run(*w, it, false);
  CHECK(limited.error.category == error_category::rate_limited);
  CHECK(limited.error.retry_after_s > 0);
  CHECK(v.run(*w, it, true).error.category == error_category::upstream);
  CHECK(v.effects.creates("xero", "customer", "C-3") == 0);
  CHECK(v.run(*w, it, true).status == push_status::succeeded);
  CHECK(v.effects.creates("xero", "customer", "C-3") == 1);
}

TEST_CASE("Sage sandbox: a lost answer is found by reference, not created twice",
          "[push][sage][sandbox]") {
  vendors v;
  auto w = make_push_writer(v.scfg);
  auto it = item("customer", push_op::create, "M-1",
                 {{"name", "Member One"}, {"email", "m@example.com"}});
  REQUIRE(v.sage.fault("write_lost", 1));
  CHECK(v.run(*w, it, false).error.retryable());
  auto again = v.run(*w, it, true);
  REQUIRE(again.status == push_status::succeeded);
  CHECK(v.effects.creates("sage", "customer", "M-1") == 1);
  auto listed = v.list("/contacts?attributes=all&search=M-1", false)["$items"];
  REQUIRE(listed.size() == 1);
  auto m = model::map_sage_contact(listed[0].dump());
  CHECK(m.problems.empty());
  CHECK(m.record.id == again.vendor_id);
  CHECK(m.record.fields["email"] == "m@example.com");
  // Without the lookup a repeated POST would make a second contact: Sage has no key.
  auto dup = v.run(*w, it, false);
  CHECK(dup.status == push_status::failed);  // the reference is taken
  CHECK(dup.errors.at(0).field == "external_id");
}

TEST_CASE("Sage sandbox: invoice with lines, receipt allocated, 422s and a conflict",
          "[push][sage][sandbox]") {
  vendors v;
  auto w = make_push_writer(v.scfg);
  auto c = item("customer", push_op::upsert, "M-2", {{"name", "Member Two"}});
  auto made = v.run(*w, c, false);
  REQUIRE(made.status == push_status::succeeded);
  auto ledger = v.list("/ledger_accounts?attributes=all", false)["$items"];
  std::string sales;
  for (const auto& l : ledger)
    if (l["nominal_code"] == 4000) sales = l["id"];
  REQUIRE_FALSE(sales.empty());
  auto inv = item("invoice", push_op::create, "SI-EXT-1",
                  {{"customer_id", made.vendor_id},
                   {"issue_date", "2026-11-01"},
                   {"lines",
                    {{{"description", "Membership"},
                      {"quantity", "2"},
                      {"unit_price", "25.50"},
                      {"account_code", "not-an-account"},
                      {"tax_code", "GB_STANDARD"}}}}});
  auto bad = v.run(*w, inv, false);
  CHECK(bad.status == push_status::failed);
  CHECK(bad.errors.at(0).field == "lines/0/account_code");
  inv.fields["lines"][0]["account_code"] = sales;
  auto ok = v.run(*w, inv, false);
  REQUIRE(ok.status == push_status::succeeded);
  auto listed = v.list("/sales_invoices?attributes=all&search=SI-EXT-1", false)["$items"].at(0);
  auto m = model::map_sage_sales_invoice(listed.dump());
  CHECK(m.problems.empty());
  CHECK(m.record.fields["total"] == "61.20");
  auto banks = v.list("/bank_accounts", false)["$items"];
  auto pay = item("payment", push_op::create, "R-1",
                  {{"customer_id", made.vendor_id},
                   {"account", banks[0]["id"]},
                   {"date", "2026-11-03"},
                   {"amount", "61.20"},
                   {"invoice_id", ok.vendor_id}});
  REQUIRE(v.run(*w, pay, false).status == push_status::succeeded);
  auto paid = v.list("/sales_invoices?attributes=all&search=SI-EXT-1", false)["$items"].at(0);
  CHECK(paid["status"]["id"] == "PAID");
  CHECK(v.effects.creates("sage", "payment", "R-1") == 1);
  auto upd = item("customer", push_op::update, "M-2", {{"name", "Member Two B"}});
  upd.vendor_id = made.vendor_id;
  upd.base_version = "2020-01-01T00:00:00Z";
  CHECK(v.run(*w, upd, false).status == push_status::conflict);
  upd.base_version = made.vendor_version;
  auto changed = v.run(*w, upd, false);
  REQUIRE(changed.status == push_status::succeeded);
  CHECK(changed.vendor_version != made.vendor_version);
}
