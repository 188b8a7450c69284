#include "model/mapping.hpp"

#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/decimal.hpp"
#include "model/exact_json.hpp"

namespace ledgersync::model {

using nlohmann::json;

const json* at(const json& j, std::string_view pointer) {
  const json* cur = &j;
  size_t pos = 0;
  if (pointer.empty()) return cur->is_null() ? nullptr : cur;
  if (pointer[0] != '/') return nullptr;
  while (pos < pointer.size()) {
    size_t next = pointer.find('/', pos + 1);
    if (next == std::string_view::npos) next = pointer.size();
    std::string token(pointer.substr(pos + 1, next - pos - 1));
    for (size_t t = 0; (t = token.find('~', t)) != std::string::npos; ++t) {
      if (t + 1 >= token.size() || (token[t + 1] != '0' && token[t + 1] != '1')) return nullptr;
      token.replace(t, 2, token[t + 1] == '0' ? "~" : "/");
    }
    if (cur->is_object()) {
      auto it = cur->find(token);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      if (token.empty() || token.size() > 9 ||
          token.find_first_not_of("0123456789") != std::string::npos) {
        return nullptr;
      }
      size_t index = std::stoul(token);
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
    pos = next;
  }
  return cur->is_null() ? nullptr : cur;
}

std::string text_at(const json& j, std::string_view pointer) {
  const json* v = at(j, pointer);
  if (!v) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_integer()) return v->dump();
  return {};
}

record_builder::record_builder(std::string_view entity, std::string source, std::string_view raw,
                               const json& src) {
  rec_.entity = entity;
  rec_.source = std::move(source);
  rec_.raw = raw;
  rec_.raw_is_json = src.is_object() || src.is_array();
}

void record_builder::id(std::string value) {
  rec_.id = value;
  if (!value.empty()) rec_.fields["id"] = std::move(value);
}

const field_spec* record_builder::spec(std::string_view field) {
  if (const entity_spec* e = find_entity(rec_.entity)) {
    for (const auto& f : e->fields) {
      if (f.name == field) return &f;
    }
  }
  return nullptr;
}

void record_builder::fail(std::string_view field, std::string message) {
  problems_.push_back({std::string(field), std::move(message)});
}

void record_builder::set_text(std::string_view field, std::string value) {
  if (!value.empty()) rec_.fields[std::string(field)] = std::move(value);
}

void record_builder::set_bool(std::string_view field, bool value) {
  rec_.fields[std::string(field)] = value;
}

void record_builder::set(std::string_view field, const json* value, bool negate) {
  if (!value) return;
  const field_spec* f = spec(field);
  if (!f) return fail(field, "is not a field of " + rec_.entity);
  std::string key(field);
  switch (f->type) {
    case field_type::amount:
    case field_type::rate: {
      auto d = json_decimal(*value);
      if (!d.ok()) return fail(field, d.error);
      decimal v = negate ? -*d : *d;
      if (f->type == field_type::amount && !currency_.empty()) {
        auto c = to_currency_amount(v, currency_);
        if (!c.ok()) return fail(field, c.error);
        v = *c;
      }
      rec_.fields[key] = v.to_string();
      return;
    }
    case field_type::currency: {
      if (!value->is_string()) return fail(field, "must be a currency code");
      auto c = normalize_currency(value->get_ref<const std::string&>());
      if (!c.ok()) return fail(field, c.error);
      if (key == "currency") currency_ = *c;
      rec_.fields[key] = *c;
      return;
    }
    case field_type::date:
    case field_type::datetime: {
      if (!value->is_string()) return fail(field, "must be a date");
      const auto& s = value->get_ref<const std::string&>();
      auto d = f->type == field_type::date ? normalize_date(s) : normalize_datetime(s);
      if (!d.ok()) return fail(field, d.error);
      rec_.fields[key] = *d;
      return;
    }
    case field_type::boolean:
      if (!value->is_boolean()) return fail(field, "must be true or false");
      rec_.fields[key] = value->get<bool>();
      return;
    case field_type::id:
    case field_type::text:
    case field_type::choice:
      if (value->is_string()) {
        if (!value->get_ref<const std::string&>().empty()) rec_.fields[key] = *value;
      } else if (value->is_number_integer()) {
        rec_.fields[key] = value->dump();
      } else {
        fail(field, "must be text");
      }
      return;
  }
}

void record_builder::set_minor(std::string_view field, const json* value, bool negate) {
  if (!value) return;
  if (!value->is_number_integer()) return fail(field, "must be an integer amount in minor units");
  const currency_info* c = find_currency(currency_);
  if (!c) return fail(field, "needs a known currency to read minor units");
  if (value->is_number_unsigned() && value->get<uint64_t>() > INT64_MAX) {
    return fail(field, "is out of range");
  }
  int64_t units = value->get<int64_t>();
  decimal d = decimal::from_minor(units, c->exponent);
  rec_.fields[std::string(field)] = (negate ? -d : d).to_string();
}

void record_builder::set_unix(std::string_view field, const json* value) {
  if (!value) return;
  // Beyond year 9999 (or before 0001) is not a date any vendor means.
  if (!value->is_number_integer() || value->get<int64_t>() < -62135596800 ||
      value->get<int64_t>() > 253402300799) {
    return fail(field, "must be Unix seconds");
  }
  const field_spec* f = spec(field);
  int64_t s = value->get<int64_t>();
  rec_.fields[std::string(field)] =
      f && f->type == field_type::date ? date_from_unix(s) : datetime_from_unix(s);
}

mapped record_builder::finish() {
  mapped m;
  m.record = std::move(rec_);
  m.problems = std::move(problems_);
  for (auto& p : validate(m.record)) {
    bool seen = false;
    for (const auto& q : m.problems) seen = seen || q.field == p.field;
    if (!seen) m.problems.push_back(std::move(p));
  }
  return m;
}

}  // namespace ledgersync::model
