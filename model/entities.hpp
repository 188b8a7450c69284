// The canonical finance model: eight entities every connector maps its vendor's records into,
// each field named, typed and documented in ONE table (entities.cpp). docs/canonical-model.md's
// field tables are generated from it (render_entity_tables) and a unit test fails when they
// drift apart.
//
// A canonical record is {"entity","id","deleted","source","fields":{...},"raw":...}:
// - fields: canonical field -> JSON value. Amounts and rates are decimal strings ("1234.50", at
//   the record currency's exponent; rates as the source wrote them), dates "YYYY-MM-DD",
//   instants "YYYY-MM-DDTHH:MM:SSZ", currencies upper-case ISO 4217, booleans JSON booleans,
//   everything else strings. A field with no value is absent, never null.
// - raw: the vendor's record exactly as it came (its JSON bytes; for a statement entry or a
//   rate, the XML element or MT940 lines as a JSON string), so nothing a mapper dropped is lost.
// - deleted: a tombstone (a voided or deleted document upstream); only id is required then.
//
// Thread-safety: the table is immutable static data; everything here is a pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace ledgersync::model {

enum class field_type {
  id,        // the vendor's stable identifier (text)
  text,      // free text
  amount,    // decimal string at the record currency's exponent; signed where the table says
  rate,      // positive decimal string, any number of decimals
  currency,  // ISO 4217 code
  date,      // YYYY-MM-DD
  datetime,  // UTC instant
  boolean,   // JSON true/false
  choice,    // one of the values listed in `choices`
};
std::string_view field_type_name(field_type t);

struct field_spec {
  std::string_view name;
  field_type type;
  bool required;
  std::string_view meaning;
  std::string_view choices = {};  // "draft|open|paid" for choice fields
};

struct entity_spec {
  std::string_view name;
  std::string_view meaning;
  std::span<const field_spec> fields;
};

std::span<const entity_spec> entities();
const entity_spec* find_entity(std::string_view name);  // nullptr when unknown

struct canonical_record {
  std::string entity;
  std::string id;
  bool deleted = false;
  std::string source;  // "xero:Invoice", "stripe:charge", "camt053", ...
  nlohmann::json fields = nlohmann::json::object();
  std::string raw;           // the vendor's bytes
  bool raw_is_json = false;  // raw is a JSON document (kept verbatim) or text (kept as a string)
};

// The record as JSON text, raw spliced in verbatim (a JSON raw is not re-serialised: its numbers
// keep their digits).
std::string to_json_text(const canonical_record& r);

// Every missing or invalid field by canonical name: required fields absent, values of the wrong
// shape, amounts with more decimals than the record's currency, unknown choice values, fields
// the entity does not have. Empty means valid.
std::vector<problem> validate(const canonical_record& r);

// "field: message; field: message" for errors and logs.
std::string describe(const std::vector<problem>& problems);

// The Markdown section of docs/canonical-model.md generated from the table.
std::string render_entity_tables();

}  // namespace ledgersync::model
