// OData v4 entity records -> canonical records through a configured field map, for ERPs whose
// entity sets and property names differ from one installation to the next. Values convert by
// the canonical field's type (Edm.Decimal as a number or, with IEEE754Compatible=true, a
// string; Edm.Date; Edm.DateTimeOffset).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "model/mapping.hpp"
#include "model/result.hpp"

namespace ledgersync::model {

// In settings:
//   {"entity": "invoice",
//    "fields": {"id": "No", "customer_id": "/Customer/No", "total": "AmountIncludingVAT", ...},
//    "currency": "EUR",            (optional: when no property carries it)
//    "deleted": "IsDeleted"}       (optional: a boolean property that marks a tombstone)
// A source is a property name, or an RFC 6901 pointer (starting with "/") into the record.
struct odata_field_map {
  std::string entity;
  std::map<std::string, std::string> fields;  // canonical field -> source
  std::string currency;
  std::string deleted;

  // Errors name the setting: "fields.total: ...", "entity: ...".
  static result<odata_field_map> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

mapped map_odata(std::string_view record, const odata_field_map& map);

}  // namespace ledgersync::model
