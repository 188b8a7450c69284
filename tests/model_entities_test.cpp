// The canonical entities: one table documents every field, docs/canonical-model.md is that
// table (a test fails when they differ), and the validator names each missing or invalid field.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "model/entities.hpp"

using namespace ledgersync::model;
using nlohmann::json;

namespace {

const char* begin_marker = "<!-- BEGIN GENERATED: entity tables (model/entities.cpp) -->\n";
const char* end_marker = "<!-- END GENERATED -->";

canonical_record good_invoice() {
  canonical_record r;
  r.entity = "invoice";
  r.id = "inv-1";
  r.source = "test";
  r.fields = {{"id", "inv-1"},
              {"customer_id", "c-1"},
              {"number", "INV-0001"},
              {"currency", "EUR"},
              {"total", "115.00"},
              {"amount_due", "15.00"},
              {"issue_date", "2026-11-01"},
              {"due_date", "2026-12-01"},
              {"status", "open"}};
  r.raw = R"({"Total":115.00})";
  r.raw_is_json = true;
  return r;
}

std::vector<std::string> fields_of(const std::vector<problem>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.field);
  return out;
}

}  // namespace

TEST_CASE("docs/canonical-model.md shows the entity table from the code", "[model][entities]") {
  std::string path = std::string(LEDGERSYNC_SOURCE_DIR) + "/docs/canonical-model.md";
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  auto b = doc.find(begin_marker), e = doc.find(end_marker);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  b += std::string(begin_marker).size();
  std::string want = render_entity_tables();
  // LEDGERSYNC_WRITE_DOCS=1 rewrites the section after the table changed.
  if (std::getenv("LEDGERSYNC_WRITE_DOCS")) {
    doc.replace(b, e - b, want);
    std::ofstream(path) << doc;
    return;
  }
  INFO("run the test with LEDGERSYNC_WRITE_DOCS=1 to regenerate the section");
  CHECK(doc.substr(b, e - b) == want);
}

TEST_CASE("the eight entities each have an id and documented fields", "[model][entities]") {
  std::vector<std::string> names;
  for (const auto& e : entities()) {
    names.emplace_back(e.name);
    REQUIRE_FALSE(e.fields.empty());
    CHECK(e.fields[0].name == "id");
    for (const auto& f : e.fields) CHECK_FALSE(f.meaning.empty());
  }
  CHECK(names == std::vector<std::string>{"customer", "invoice", "payment", "bank_transaction",
                                          "gl_account", "gl_transaction", "fx_rate", "balance"});
  std::vector<std::string> required;
  for (const auto& f : find_entity("invoice")->fields) {
    if (f.required) required.emplace_back(f.name);
  }
  CHECK(required == std::vector<std::string>{"id", "customer_id", "number", "currency", "total",
                                             "amount_due", "issue_date", "due_date", "status"});
}

TEST_CASE("the validator names missing and invalid fields", "[model][entities]") {
  CHECK(validate(good_invoice()).empty());

  auto r = good_invoice();
  r.fields.erase("number");
  r.fields.erase("due_date");
  r.fields["customer_id"] = nullptr;
  CHECK(fields_of(validate(r)) == std::vector<std::string>{"customer_id", "number", "due_date"});
  CHECK(validate(r)[0].message == "is missing");

  r = good_invoice();
  r.fields["total"] = "115.001";
  r.fields["amount_due"] = 15;
  r.fields["issue_date"] = "01/11/2026";
  r.fields["status"] = "AUTHORISED";
  r.fields["colour"] = "red";
  auto ps = validate(r);
  CHECK(fields_of(ps) ==
        std::vector<std::string>{"total", "amount_due", "issue_date", "status", "colour"});
  CHECK(ps[0].message == "115.001 has more decimal places than EUR allows (2)");
  CHECK(ps[1].message == "must be a string");
  CHECK(ps[3].message == "\"AUTHORISED\" is not one of draft|open|paid|void|uncollectible");
  CHECK(ps[4].message == "is not a field of invoice");

  r = good_invoice();
  r.fields["total"] = "115.0";  // valid number, not at EUR's exponent
  r.fields["currency"] = "EURO";
  CHECK(fields_of(validate(r)) == std::vector<std::string>{"currency"});
  r.fields["currency"] = "EUR";
  CHECK(validate(r).at(0).message == "\"115.0\" is not written at EUR's exponent");

  r = good_invoice();
  r.id.clear();
  r.fields.erase("id");
  CHECK(fields_of(validate(r)) == std::vector<std::string>{"id"});

  canonical_record gone;
  gone.entity = "invoice";
  gone.id = "inv-9";
  gone.deleted = true;
  CHECK(validate(gone).empty());  // a tombstone needs only its id

  gone.entity = "contract";
  CHECK(validate(gone).at(0).field == "entity");

  canonical_record rate;
  rate.entity = "fx_rate";
  rate.id = "ecb:2026-11-25:EUR:JPY";
  rate.fields = {{"base", "EUR"}, {"quote", "JPY"}, {"rate", "163.47"}, {"date", "2026-11-25"}};
  CHECK(validate(rate).empty());  // a rate keeps its decimals whatever the currency
  rate.fields["rate"] = "-1";
  CHECK(fields_of(validate(rate)) == std::vector<std::string>{"rate"});
}

TEST_CASE("a canonical record's JSON keeps the raw vendor record verbatim", "[model][entities]") {
  auto r = good_invoice();
  auto text = to_json_text(r);
  CHECK(text.find(R"("raw":{"Total":115.00}})") != std::string::npos);
  auto j = json::parse(text);
  CHECK(j["entity"] == "invoice");
  CHECK(j["fields"]["total"] == "115.00");
  r.raw = ":61:2611251125C1234,50NTRFNONREF//B1";
  r.raw_is_json = false;
  CHECK(json::parse(to_json_text(r))["raw"] == ":61:2611251125C1234,50NTRFNONREF//B1");
  // Bytes that are not UTF-8 (a record that could not be parsed) are replaced, not thrown on.
  r.raw = "{\"a\":\"\xff\"";
  CHECK(json::parse(to_json_text(r))["raw"] == "{\"a\":\"\xef\xbf\xbd\"");
}
