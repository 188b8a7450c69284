#include "model/map_odata.hpp"

#include "model/currency.hpp"

namespace ledgersync::model {
namespace {

using nlohmann::json;

std::string pointer_of(const std::string& source) {
  if (source.starts_with("/")) return source;
  std::string p = "/";
  for (char c : source) p += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return p;
}

bool valid_pointer(const std::string& p) {
  for (size_t i = 0; (i = p.find('~', i)) != std::string::npos; ++i) {
    if (i + 1 >= p.size() || (p[i + 1] != '0' && p[i + 1] != '1')) return false;
  }
  return true;
}

}  // namespace

result<odata_field_map> odata_field_map::from_json(const json& j) {
  using out = result<odata_field_map>;
  if (!j.is_object()) return out::bad("the field map must be a JSON object");
  odata_field_map m;
  for (const auto& [k, v] : j.items()) {
    if (k != "entity" && k != "fields" && k != "currency" && k != "deleted") {
      return out::bad(k + ": unknown setting (entity, fields, currency, deleted)");
    }
    if (k != "fields" && !v.is_string()) return out::bad(k + ": must be a string");
  }
  m.entity = j.value("entity", "");
  const entity_spec* spec = find_entity(m.entity);
  if (!spec) return out::bad("entity: " + quote_text(m.entity) + " is not a canonical entity");
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_object()) return out::bad("fields: must be an object");
  for (const auto& [k, v] : fields->items()) {
    bool known = false;
    for (const auto& f : spec->fields) known = known || f.name == k;
    if (!known) return out::bad("fields." + k + ": is not a field of " + m.entity);
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      return out::bad("fields." + k + ": must name a property or a /pointer");
    }
    if (!valid_pointer(v.get<std::string>())) {
      return out::bad("fields." + k + ": " + quote_text(v.get<std::string>()) +
                      " is not a valid JSON pointer (~ must be ~0 or ~1)");
    }
    m.fields[k] = v.get<std::string>();
  }
  m.currency = j.value("currency", "");
  if (!m.currency.empty()) {
    auto c = normalize_currency(m.currency);
    if (!c.ok()) return out::bad("currency: " + c.error);
    m.currency = *c;
  }
  m.deleted = j.value("deleted", "");
  for (const auto& f : spec->fields) {
    if (!f.required || m.fields.count(std::string(f.name))) continue;
    if (f.name == "currency" && !m.currency.empty()) continue;
    return out::bad("fields." + std::string(f.name) + ": is required for " + m.entity +
                    " and not mapped");
  }
  return out::good(std::move(m));
}

json odata_field_map::to_json() const {
  json j = {{"entity", entity}, {"fields", fields}};
  if (!currency.empty()) j["currency"] = currency;
  if (!deleted.empty()) j["deleted"] = deleted;
  return j;
}

mapped map_odata(std::string_view text, const odata_field_map& map) {
  std::string source = "odata:" + map.entity;
  return map_json_record(map.entity, source, text, [&](const json& j) {
    record_builder b(map.entity, source, text, j);
    if (auto it = map.fields.find("id"); it != map.fields.end()) {
      b.id(text_at(j, pointer_of(it->second)));
    }
    if (!map.deleted.empty()) {
      const json* d = at(j, pointer_of(map.deleted));
      b.deleted(d && d->is_boolean() && d->get<bool>());
    }
    // The currency first: amounts are read at its exponent.
    if (auto it = map.fields.find("currency");
        it != map.fields.end() && at(j, pointer_of(it->second))) {
      b.set("currency", at(j, pointer_of(it->second)));
    } else if (!map.currency.empty()) {
      json fixed = map.currency;
      b.set("currency", &fixed);
    }
    for (const auto& [field, src] : map.fields) {
      if (field == "id" || field == "currency") continue;
      b.set(field, at(j, pointer_of(src)));
    }
    return b.finish();
  });
}

}  // namespace ledgersync::model
