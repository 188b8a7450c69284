#include "model/ecb_fx.hpp"

#include <set>

#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/decimal.hpp"
#include "model/xml_ns.hpp"

namespace ledgersync::model {
namespace {

constexpr std::string_view gesmes_ns = "http://www.gesmes.org/xml/2002-08-01";
constexpr std::string_view cube_ns = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref";
using out = result<std::vector<canonical_record>>;

}  // namespace

result<std::vector<canonical_record>> parse_ecb_fx(std::string_view text) {
  pugi::xml_document doc;
  if (auto err = xml::load(doc, text); !err.empty()) return out::bad("ECB rates: " + err);
  pugi::xml_node root = doc.document_element();
  if (xml::local_name(root) != "Envelope" || xml::ns_uri(root) != gesmes_ns) {
    return out::bad("ECB rates: the root is not a gesmes:Envelope");
  }
  pugi::xml_node outer = xml::child(root, "Cube", cube_ns);
  if (!outer) return out::bad("ECB rates: no Cube in the eurofxref namespace");
  std::vector<canonical_record> records;
  std::set<std::string> days;
  for (auto day : xml::children(outer, "Cube", cube_ns)) {
    std::string time = day.attribute("time").value();
    auto date = normalize_date(time);
    if (time.size() != 10 || !date.ok()) {
      return out::bad("ECB rates: Cube time " + quote_text(time) + " is not a YYYY-MM-DD day");
    }
    if (!days.insert(*date).second) return out::bad("ECB rates: " + *date + " appears twice");
    std::set<std::string> seen;
    for (auto rate : xml::children(day, "Cube", cube_ns)) {
      std::string where = "ECB rates " + *date + ": ";
      std::string code = rate.attribute("currency").value();
      if (!find_currency(code)) {
        return out::bad(where + "currency " + quote_text(code, 16) + " is not an ISO 4217 code");
      }
      if (!seen.insert(code).second) return out::bad(where + code + " appears twice");
      std::string value = rate.attribute("rate").value();
      auto d = decimal::parse(value);
      if (!d.ok()) return out::bad(where + code + " rate: " + d.error);
      if (d->negative() || d->zero()) return out::bad(where + code + " rate must be positive");
      canonical_record r;
      r.entity = "fx_rate";
      r.source = "ecb";
      r.raw = xml::outer_xml(rate);
      r.id = "ecb:" + *date + ":EUR:" + code;
      r.fields = {{"id", r.id},    {"base", "EUR"}, {"quote", code},
                  {"rate", value}, {"date", *date}, {"source", "ecb"}};
      records.push_back(std::move(r));
    }
  }
  if (days.empty()) return out::bad("ECB rates: the file holds no day");
  return out::good(std::move(records));
}

}  // namespace ledgersync::model
