// Vendor records map exactly onto canonical records: the Xero spec's own examples, Stripe's
// official fixtures, Sage and QuickBooks documented bodies, an OData page through a configured
// field map. Tombstones, problems named by canonical field, raw bytes kept.
#include <catch2/catch.hpp>

#include "model/exact_json.hpp"
#include "model/map_odata.hpp"
#include "model/map_quickbooks.hpp"
#include "model/map_sage.hpp"
#include "model/map_stripe.hpp"
#include "model/map_xero.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync::model;
using nlohmann::json;

namespace {

std::vector<std::string> records(const std::string& file, const char* pointer) {
  auto r = records_at(read_fixture(file), pointer);
  INFO(r.error);
  REQUIRE(r.ok());
  return *r;
}

std::string problems_text(const mapped& m) {
  std::string s;
  for (const auto& p : m.problems) s += p.field + ": " + p.message + "\n";
  return s;
}

}  // namespace

TEST_CASE("Xero invoices from the spec's example map exactly", "[model][mappers][xero]") {
  auto recs = records("xero/Invoices.json", "/Invoices");
  REQUIRE(recs.size() == 3);

  auto voided = map_xero_invoice(recs[0]);
  CHECK(voided.tombstone());
  CHECK(voided.record.id == "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2");
  CHECK(voided.record.fields["status"] == "void");

  auto paid = map_xero_invoice(recs[1]);
  CHECK_FALSE(paid.tombstone());
  CHECK(paid.record.fields["status"] == "paid");
  CHECK(paid.record.fields["tax_total"] == "6.00");

  auto open = map_xero_invoice(recs[2]);
  INFO(problems_text(open));
  CHECK(open.problems.empty());
  CHECK(open.record.fields == json{{"id", "7ef31b20-de17-4312-8382-412f869b1510"},
                                   {"customer_id", "a3675fc4-f8dd-4f03-ba5b-f1870566bcd7"},
                                   {"number", "INV-0003"},
                                   {"kind", "receivable"},
                                   {"currency", "NZD"},
                                   {"subtotal", "100.00"},
                                   {"tax_total", "15.00"},
                                   {"total", "115.00"},
                                   {"amount_paid", "0.00"},
                                   {"amount_due", "115.00"},
                                   {"issue_date", "2018-11-02"},
                                   {"due_date", "2018-11-07"},
                                   {"status", "open"},
                                   {"updated_at", "2018-11-02T16:37:28.927Z"}});
  CHECK(open.record.source == "xero:Invoice");
  // The raw record is the vendor's bytes: "115.00" stays "115.00", not 115.0.
  CHECK(open.record.raw_is_json);
  CHECK(open.record.raw.find("\"Total\": 115.00") != std::string::npos);
  CHECK(to_json_text(open.record).find("\"Total\": 115.00") != std::string::npos);
}

TEST_CASE("Xero contacts, payments, bank transactions and accounts", "[model][mappers][xero]") {
  auto contacts = records("xero/Contacts.json", "/Contacts");
  auto c = map_xero_contact(contacts[0]);
  INFO(problems_text(c));
  CHECK(c.problems.empty());
  CHECK(c.record.fields["name"] == "Katherine Warren");
  CHECK(c.record.fields["email"] == "kat.warren@clampett.com");
  CHECK(c.record.fields["status"] == "active");
  CHECK(c.record.fields["updated_at"] == "2017-08-21T20:49:04.227Z");
  CHECK_FALSE(c.record.fields.contains("tax_number"));  // "" in Xero: absent here

  auto payments = records("xero/Payments.json", "/Payments");
  auto p = map_xero_payment(payments[0]);
  INFO(problems_text(p));
  CHECK(p.problems.empty());
  CHECK(p.record.fields["amount"] == "46.00");
  CHECK(p.record.fields["currency"] == "NZD");
  CHECK(p.record.fields["date"] == "2018-11-29");
  CHECK(p.record.fields["invoice_id"] == "046d8a6d-1ae1-4b4d-9340-5601bdf41b87");
  CHECK(p.record.fields["customer_id"] == "a3675fc4-f8dd-4f03-ba5b-f1870566bcd7");
  // A refund of a credit note (ARCREDITPAYMENT) is money out.
  auto refund = map_xero_payment(payments[1]);
  CHECK(refund.problems.empty());
  CHECK(refund.record.fields["amount"] == "-2.00");
  // A payment that names no currency: a problem, unless the base currency is known.
  const char* bare = R"({"PaymentID":"p9","Amount":5,"Date":"/Date(1552521600000+0000)/"})";
  REQUIRE(map_xero_payment(bare).problems.size() == 1);
  CHECK(map_xero_payment(bare).problems[0].field == "currency");
  CHECK(map_xero_payment(bare, {"NZD"}).problems.empty());
  CHECK(map_xero_payment(bare, {"NZD"}).record.fields["amount"] == "5.00");

  auto bank = records("xero/BankTransactions.json", "/BankTransactions");
  auto in = map_xero_bank_transaction(bank[0]);
  INFO(problems_text(in));
  CHECK(in.problems.empty());
  CHECK(in.record.fields["amount"] == "10.00");  // Xero wrote the integer 10
  CHECK(in.record.fields["booking_date"] == "2016-10-13");
  auto out = map_xero_bank_transaction(bank[1]);
  CHECK(out.record.fields["amount"] == "-9.00");  // SPEND-OVERPAYMENT: money out

  auto accounts = records("xero/Accounts.json", "/Accounts");
  auto a = map_xero_account(accounts[0]);
  INFO(problems_text(a));
  CHECK(a.problems.empty());
  CHECK(a.record.fields == json{{"id", "ebd06280-af70-4bed-97c6-7451a454ad85"},
                                {"code", "091"},
                                {"name", "Business Savings Account"},
                                {"class", "asset"},
                                {"type", "BANK"},
                                {"currency", "NZD"}});
  CHECK(map_xero_account(accounts[1]).record.fields["class"] == "revenue");
}

TEST_CASE("Xero tombstones: deleted and voided documents", "[model][mappers][xero]") {
  CHECK(map_xero_payment(R"({"PaymentID":"p1","Status":"DELETED"})").tombstone());
  CHECK(map_xero_payment(R"({"PaymentID":"p1","Status":"DELETED"})").problems.empty());
  CHECK(map_xero_bank_transaction(R"({"BankTransactionID":"b1","Status":"VOIDED"})").tombstone());
  CHECK(map_xero_bank_transaction(R"({"BankTransactionID":"b1","Status":"DELETED"})").tombstone());
  CHECK(map_xero_account(R"({"AccountID":"a1","Status":"DELETED"})").tombstone());
  CHECK(map_xero_invoice(R"({"InvoiceID":"i1","Status":"DELETED"})").tombstone());
  CHECK_FALSE(
      map_xero_contact(R"({"ContactID":"c1","Name":"X","ContactStatus":"ARCHIVED"})").tombstone());
}

TEST_CASE("Xero amounts keep every digit and bad values are named", "[model][mappers][xero]") {
  auto m = map_xero_invoice(
      R"({"InvoiceID":"i1","Contact":{"ContactID":"c1"},"InvoiceNumber":"INV-9","CurrencyCode":"EUR",
          "Total":12345678901234567.89,"AmountDue":0.1,"Date":"/Date(1539993600000+0000)/",
          "DueDate":"/Date(1546128000000+0000)/","Status":"AUTHORISED"})");
  INFO(problems_text(m));
  CHECK(m.problems.empty());
  CHECK(m.record.fields["total"] == "12345678901234567.89");
  CHECK(m.record.fields["amount_due"] == "0.10");

  auto bad = map_xero_invoice(
      R"({"InvoiceID":"i2","Contact":{},"CurrencyCode":"JPY","Total":100.5,"AmountDue":"x",
          "Date":"/Date(nope)/","Status":"AUTHORISED"})");
  std::vector<std::string> fields;
  for (const auto& p : bad.problems) fields.push_back(p.field);
  CHECK(fields == std::vector<std::string>{"total", "amount_due", "issue_date", "customer_id",
                                           "number", "due_date"});
  CHECK(bad.problems[0].message == "100.5 has more decimal places than JPY allows (0)");

  auto junk = map_xero_invoice("[1,2");
  REQUIRE(junk.problems.size() == 1);
  CHECK(junk.problems[0].field == "record");
  CHECK(map_xero_invoice("[]").problems[0].message == "is not a JSON object");
}

TEST_CASE("Stripe's fixtures map exactly", "[model][mappers][stripe]") {
  auto cus = map_stripe_customer(read_fixture("stripe/customer.json"));
  CHECK(cus.record.id == "cus_QXg1o8vcGmoR32");
  CHECK(cus.record.fields["currency"] == "USD");
  CHECK(cus.record.fields["balance"] == "0.00");
  // The fixture's customer has no name: set aside, naming the field.
  REQUIRE(cus.problems.size() == 1);
  CHECK(cus.problems[0].field == "name");

  auto ch = map_stripe_charge(read_fixture("stripe/charge.json"));
  INFO(problems_text(ch));
  CHECK(ch.problems.empty());
  CHECK(ch.record.entity == "payment");
  CHECK(ch.record.fields == json{{"id", "ch_1PgafuB7WZ01zgkWXYmPNZs8"},
                                 {"currency", "USD"},
                                 {"amount", "1.00"},
                                 {"date", "2009-02-13"},
                                 {"reference", "My First Test Charge (created for API docs)"},
                                 {"status", "succeeded"}});

  auto pi = map_stripe_payment_intent(read_fixture("stripe/payment_intent.json"));
  CHECK(pi.problems.empty());
  CHECK(pi.record.fields["amount"] == "10.99");
  CHECK(pi.record.fields["status"] == "pending");

  auto inv = map_stripe_invoice(read_fixture("stripe/invoice.json"));
  CHECK(inv.record.fields["total"] == "10.00");
  CHECK(inv.record.fields["amount_due"] == "10.00");
  CHECK(inv.record.fields["customer_id"] == "cus_QXg1o8vcGmoR32");
  CHECK(inv.record.fields["status"] == "draft");
  CHECK(inv.record.fields["issue_date"] == "2009-02-13");
  REQUIRE(inv.problems.size() == 1);  // a draft has no number yet
  CHECK(inv.problems[0].field == "number");

  auto txn = map_stripe_balance_transaction(read_fixture("stripe/balance_transaction.json"));
  INFO(problems_text(txn));
  CHECK(txn.problems.empty());
  CHECK(txn.record.entity == "bank_transaction");
  CHECK(txn.record.fields["account"] == "stripe:payments");
  CHECK(txn.record.fields["amount"] == "1.00");
  CHECK(txn.record.fields["reference"] == "ch_1PgafuB7WZ01zgkWXYmPNZs8");
  CHECK(txn.record.fields["status"] == "booked");

  CHECK(map_stripe_object(read_fixture("stripe/charge.json")).record.entity == "payment");
}

TEST_CASE("Stripe deletions and zero-decimal currencies", "[model][mappers][stripe]") {
  auto gone = map_stripe_customer(R"({"id":"cus_1","object":"customer","deleted":true})");
  CHECK(gone.tombstone());
  CHECK(gone.problems.empty());
  auto ev = map_stripe_event(
      R"({"id":"evt_1","object":"event","type":"customer.deleted",
          "data":{"object":{"id":"cus_2","object":"customer","email":"a@b.example"}}})");
  CHECK(ev.tombstone());
  CHECK(ev.record.id == "cus_2");
  CHECK(ev.problems.empty());
  CHECK(ev.record.raw.find("evt_1") != std::string::npos);
  auto upd = map_stripe_event(
      R"({"id":"evt_2","type":"charge.succeeded","data":{"object":{"id":"ch_9","object":"charge",
          "amount":1500,"currency":"jpy","created":1700000000,"status":"succeeded"}}})");
  CHECK_FALSE(upd.tombstone());
  CHECK(upd.record.fields["amount"] == "1500");  // JPY has no minor unit
  CHECK(map_stripe_event(R"({"id":"evt_3","type":"x"})").problems.at(0).field == "data.object");
  CHECK(map_stripe_object(R"({"id":"x","object":"payout"})").problems.at(0).field == "object");
  CHECK(map_stripe_charge(R"({"id":"ch","currency":"usd","amount":1.5})").problems.at(0).field ==
        "amount");
}

TEST_CASE("Sage v3.1 records map exactly", "[model][mappers][sage]") {
  auto inv = map_sage_sales_invoice(read_fixture("sage/sales_invoice.json"));
  INFO(problems_text(inv));
  CHECK(inv.problems.empty());
  CHECK(inv.record.fields == json{{"id", "4ab1b3e3c1e111e9a1b30a6aa1a1b1c1"},
                                  {"customer_id", "8f3c2a9ec1e111e9a1b30a6aa1a1b1c1"},
                                  {"number", "SI-1042"},
                                  {"kind", "receivable"},
                                  {"currency", "GBP"},
                                  {"subtotal", "1000.00"},
                                  {"tax_total", "200.00"},
                                  {"total", "1200.00"},
                                  {"amount_paid", "450.00"},
                                  {"amount_due", "750.00"},
                                  {"issue_date", "2026-11-02"},
                                  {"due_date", "2026-12-02"},
                                  {"status", "open"},
                                  {"reference", "PO 7781"},
                                  {"updated_at", "2026-11-20T16:03:11Z"}});
  auto c = map_sage_contact(read_fixture("sage/contact.json"));
  INFO(problems_text(c));
  CHECK(c.problems.empty());
  CHECK(c.record.fields["balance"] == "750.00");
  CHECK(c.record.fields["phone"] == "01632 960001");
  auto p = map_sage_contact_payment(read_fixture("sage/contact_payment.json"));
  INFO(problems_text(p));
  CHECK(p.problems.empty());
  CHECK(p.record.fields["amount"] == "450.00");
  CHECK(p.record.fields["invoice_id"] == "4ab1b3e3c1e111e9a1b30a6aa1a1b1c1");
  auto a = map_sage_ledger_account(read_fixture("sage/ledger_account.json"));
  INFO(problems_text(a));
  CHECK(a.problems.empty());
  CHECK(a.record.fields["code"] == "4000");
  CHECK(a.record.fields["class"] == "revenue");
  auto d = map_sage_deleted(R"({"id":"4ab1","deleted_at":"2026-11-21T10:00:00Z"})", "invoice");
  CHECK(d.tombstone());
  CHECK(d.problems.empty());
  auto no_ccy = map_sage_sales_invoice(R"({"id":"x","total_amount":"5.0"})", {"GBP"});
  CHECK(no_ccy.record.fields["total"] == "5.00");
}

TEST_CASE("QuickBooks records and CDC deletions map exactly", "[model][mappers][quickbooks]") {
  auto inv = map_quickbooks_invoice(read_fixture("quickbooks/invoice.json"));
  INFO(problems_text(inv));
  CHECK(inv.problems.empty());
  CHECK(inv.record.fields == json{{"id", "130"},
                                  {"customer_id", "24"},
                                  {"number", "1037"},
                                  {"kind", "receivable"},
                                  {"currency", "USD"},
                                  {"tax_total", "26.82"},
                                  {"total", "362.07"},
                                  {"amount_due", "362.07"},
                                  {"issue_date", "2014-09-19"},
                                  {"due_date", "2014-10-19"},
                                  {"status", "open"},
                                  {"updated_at", "2014-09-19T20:16:17Z"}});
  // No CurrencyRef: the company's home currency, when known.
  auto cus = map_quickbooks_customer(read_fixture("quickbooks/customer.json"));
  CHECK_FALSE(cus.record.fields.contains("currency"));
  cus = map_quickbooks_customer(read_fixture("quickbooks/customer.json"), {"USD"});
  INFO(problems_text(cus));
  CHECK(cus.problems.empty());
  CHECK(cus.record.fields["name"] == "Amy's Bird Sanctuary");
  CHECK(cus.record.fields["balance"] == "274.00");
  CHECK(cus.record.fields["status"] == "active");
  auto pay = map_quickbooks_payment(read_fixture("quickbooks/payment.json"), {"USD"});
  INFO(problems_text(pay));
  CHECK(pay.problems.empty());
  CHECK(pay.record.fields["amount"] == "65.00");
  CHECK(pay.record.fields["invoice_id"] == "70");
  auto del = map_quickbooks_invoice(read_fixture("quickbooks/cdc_deleted.json"));
  CHECK(del.tombstone());
  CHECK(del.record.id == "130");
  CHECK(del.problems.empty());
}

TEST_CASE("OData records map through a configured field map", "[model][mappers][odata]") {
  json settings = {{"entity", "invoice"},
                   {"fields",
                    {{"id", "No"},
                     {"customer_id", "Sell_to_Customer_No"},
                     {"number", "/No"},
                     {"currency", "Currency_Code"},
                     {"total", "Amount_Including_VAT"},
                     {"amount_due", "Remaining_Amount"},
                     {"issue_date", "Document_Date"},
                     {"due_date", "Due_Date"},
                     {"status", "Status"},
                     {"updated_at", "Last_Modified"}}},
                   {"currency", "eur"},
                   {"deleted", "Deleted"}};
  auto map = odata_field_map::from_json(settings);
  INFO(map.error);
  REQUIRE(map.ok());
  CHECK(map->currency == "EUR");
  CHECK(odata_field_map::from_json(map->to_json())->to_json() == map->to_json());

  auto recs = records("odata/sales_invoices.json", "/value");
  REQUIRE(recs.size() == 2);
  auto a = map_odata(recs[0], *map);
  INFO(problems_text(a));
  CHECK(a.problems.empty());
  CHECK(a.record.fields["total"] == "1187.50");
  CHECK(a.record.fields["amount_due"] == "0.10");
  CHECK(a.record.fields["updated_at"] == "2026-11-20T08:00:00.123Z");
  CHECK(a.record.source == "odata:invoice");
  auto b = map_odata(recs[1], *map);
  CHECK(b.tombstone());
  CHECK(b.record.fields["currency"] == "EUR");  // the configured one
  REQUIRE(b.problems.size() == 2);              // 19.999 EUR, twice
  CHECK(b.problems[0].message == "19.999 has more decimal places than EUR allows (2)");

  auto bad = [&](json s) { return odata_field_map::from_json(s).error; };
  CHECK(bad({{"entity", "contract"}, {"fields", json::object()}}) ==
        "entity: \"contract\" is not a canonical entity");
  CHECK(bad({{"entity", "fx_rate"}, {"fields", {{"colour", "C"}}}}) ==
        "fields.colour: is not a field of fx_rate");
  CHECK(bad({{"entity", "fx_rate"}, {"fields", {{"id", "/a~2"}}}}) ==
        "fields.id: \"/a~2\" is not a valid JSON pointer (~ must be ~0 or ~1)");
  CHECK(bad({{"entity", "fx_rate"}, {"fields", {{"id", "Id"}}}}) ==
        "fields.base: is required for fx_rate and not mapped");
  CHECK(bad({{"entity", "invoice"}, {"fields", json::object()}, {"currency", "EURO"}}) ==
        "currency: \"EURO\" is not an ISO 4217 currency code");
  CHECK(bad({{"entity", "invoice"}, {"fields", {{"id", 5}}}}) ==
        "fields.id: must name a property or a /pointer");
  CHECK(bad({{"entity", "invoice"}, {"colour", "red"}}) ==
        "colour: unknown setting (entity, fields, currency, deleted)");
  CHECK(bad(json::array()) == "the field map must be a JSON object");
}

TEST_CASE("records_at cuts a page into the vendor's own record bytes", "[model][mappers]") {
  auto r = records_at(R"({"a":{"b":[{"x":1.10},{"y":"z"}]}})", "/a/b");
  REQUIRE(r.ok());
  CHECK(*r == std::vector<std::string>{R"({"x":1.10})", R"({"y":"z"})"});
  CHECK(records_at(R"([{"x":1}, {"x":2}])", "")->size() == 2);
  CHECK_FALSE(records_at(R"({"a":[1,2]})", "/a").ok());
  CHECK_FALSE(records_at(R"({"a":{}})", "/a").ok());
  CHECK_FALSE(records_at(R"({"a":[{"x":1},)", "/a").ok());
  CHECK_FALSE(records_at("not json", "").ok());
}
