#include "connectors/odata_connector.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "connectors/json_state.hpp"
#include "connectors/json_text.hpp"
#include "connectors/paging.hpp"
#include "connectors/watermark.hpp"
#include "model/dates.hpp"
#include "model/exact_json.hpp"
#include "model/map_odata.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

// Where an entity set's stream stands. `newest`: the newest modified value committed by a
// finished pass; `since`: what this pass filters by ("" in a full pass or the first one);
// `pass_max`: the newest seen in this pass, which becomes `newest` once the pass ends (a pass
// cut short must not move the filter past records it never read).
struct odata_state : json_state<odata_state> {
  std::string newest, since, pass_max, page_token;

  template <class S, class F>
  static void each_field(S& s, F&& f) {
    f("newest", s.newest);
    f("since", s.since);
    f("pass_max", s.pass_max);
    f("page_token", s.page_token);
  }
};

// One configured entity set, its field map already checked.
struct entity_set {
  std::string name, modified_field, id_field;
  model::odata_field_map map;
};

// A property name or a path of them (Header/Modified): what $filter and $orderby may name.
bool odata_path(const std::string& s) {
  if (s.empty() || s.front() == '/' || s.back() == '/') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '/')) return false;
  return true;
}

std::string at_index(size_t i, const char* key) {
  return "settings.entity_sets[" + std::to_string(i) + "]." + key;
}

// The entity set `j` (at index `i` of the setting), or why it is refused.
model::result<entity_set> read_entity_set(const json& j, size_t i) {
  using out = model::result<entity_set>;
  std::string where = "settings.entity_sets[" + std::to_string(i) + "]";
  if (!j.is_object())
    return out::bad(where +
                    " must be an object {name, entity, modified_field, id_field, "
                    "field_map}");
  for (auto& [k, v] : j.items()) {
    if (k != "name" && k != "entity" && k != "modified_field" && k != "id_field" &&
        k != "field_map")
      return out::bad(where + "." + k +
                      " is not a setting of an entity set (name, entity, modified_field, "
                      "id_field, field_map)");
    if (k != "field_map" && !v.is_string()) return out::bad(where + "." + k + " must be a string");
  }
  entity_set e;
  e.name = j.value("name", "");
  e.modified_field = j.value("modified_field", "");
  e.id_field = j.value("id_field", "");
  if (e.name.empty())
    return out::bad(at_index(i, "name") + " is required (the entity set's name, e.g. Customers)");
  // The name is also the stream's: letters, digits, '_', '-' and '.'.
  if (!valid_integration_name(e.name) || e.name.find('-') != std::string::npos)
    return out::bad(at_index(i, "name") + ": " + model::quote_text(e.name, 40) +
                    " is not an entity set name (letters, digits, '_' and '.')");
  if (e.modified_field.empty())
    return out::bad(at_index(i, "modified_field") +
                    " is required (the property holding when a record last changed)");
  if (!odata_path(e.modified_field))
    return out::bad(at_index(i, "modified_field") + ": " + model::quote_text(e.modified_field, 40) +
                    " is not a property name (letters, digits, '_', '/' between segments)");
  if (e.id_field.empty())
    return out::bad(at_index(i, "id_field") + " is required (the property holding the key)");
  json fm = j.contains("field_map") ? j["field_map"] : json::object();
  if (!fm.is_object())
    return out::bad(at_index(i, "field_map") + " must be an object {fields, currency, deleted}");
  if (j.contains("entity")) {
    if (fm.contains("entity") && fm["entity"] != j["entity"])
      return out::bad(at_index(i, "field_map.entity") + " differs from " + at_index(i, "entity"));
    fm["entity"] = j["entity"];
  }
  if (!fm.contains("fields")) fm["fields"] = json::object();
  if (fm["fields"].is_object()) {
    if (!fm["fields"].contains("id")) fm["fields"]["id"] = e.id_field;
    // Where the canonical entity has updated_at, the modified field fills it.
    if (auto* spec = model::find_entity(fm.value("entity", ""));
        spec && !fm["fields"].contains("updated_at"))
      for (auto& f : spec->fields)
        if (f.name == "updated_at") fm["fields"]["updated_at"] = e.modified_field;
  }
  auto map = model::odata_field_map::from_json(fm);
  if (!map.ok()) {
    auto msg = map.error;
    // entity: … names the set's own setting; the rest live in field_map.
    return out::bad(msg.rfind("entity:", 0) == 0 ? where + "." + msg : where + ".field_map." + msg);
  }
  e.map = std::move(*map);
  return out::good(std::move(e));
}

model::result<std::vector<entity_set>> read_entity_sets(const json& settings) {
  using out = model::result<std::vector<entity_set>>;
  auto sets = settings.is_object() && settings.contains("entity_sets") ? settings["entity_sets"]
                                                                       : json::array();
  if (!sets.is_array() || sets.empty())
    return out::bad("settings.entity_sets must list at least one entity set");
  std::vector<entity_set> all;
  for (size_t i = 0; i < sets.size(); ++i) {
    auto e = read_entity_set(sets[i], i);
    if (!e.ok()) return out::bad(e.error);
    for (auto& seen : all)
      if (seen.name == e->name)
        return out::bad(at_index(i, "name") + ": " + model::quote_text(e->name, 40) +
                        " is listed twice");
    all.push_back(std::move(*e));
  }
  return out::good(std::move(all));
}

// Query text: everything but unreserved characters and the few an OData URL shows as they are.
std::string query_escape(const std::string& s) {
  return percent_encode(s, ":'");
}

std::string text_of(simdjson::dom::element doc, const char* key) {
  auto v = doc[key];
  return v.error() ? "" : scalar_text(v.value_unsafe());
}

class odata_connector final : public connector {
 public:
  explicit odata_connector(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : json::object();
    page_size_ = settings.value("max_page_size", int64_t{500});
    auto sets = read_entity_sets(settings);
    if (sets.ok())
      sets_ = std::move(*sets);
    else
      settings_error_ = sets.error;
  }

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = odata_state::parse(state);
    st.since = full ? "" : st.newest;
    st.pass_max.clear();
    st.page_token.clear();
    return st.dump();
  }

  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = odata_state::parse(state);
    if (later(page.max_updated, st.pass_max, watermark_order::timestamp))
      st.pass_max = page.max_updated;
    if (page.has_more) {
      st.page_token = page.next_token;
      return st.dump();
    }
    if (later(st.pass_max, st.newest, watermark_order::timestamp)) st.newest = st.pass_max;
    st.since.clear();
    st.pass_max.clear();
    st.page_token.clear();
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    return odata_state::parse(state).page_token;
  }

  http_request page_request(const stream_config& s, const stream_cursor& c) const override {
    auto st = odata_state::parse(c.state);
    auto r = base_request();
    // The token is a next link already checked against the base URL's origin, and the request
    // may go nowhere else (allowed_origin) even if a stored state said otherwise.
    if (!st.page_token.empty()) {
      r.url = st.page_token;
      return r;
    }
    auto* set = find(s);
    std::string modified = set ? set->modified_field : "";
    std::string url = base() + "/" + (set ? set->name : s.name) + "?";
    if (!st.since.empty() && !modified.empty())
      url += "$filter=" + query_escape(modified + " gt " + odata_literal(st.since)) + "&";
    if (!modified.empty()) url += "$orderby=" + query_escape(modified + " asc") + "&";
    url += "$count=true";
    r.url = std::move(url);
    return r;
  }

  // The service document: proves the URL and the credentials without reading any entity set.
  http_request probe_request(const stream_config&) const override {
    auto r = base_request();
    r.url = base() + "/";
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor&,
                         const http_response& resp) override {
    page_result out;
    auto fail = [&](error_category cat, const std::string& why) {
      out.error = make_error_info(cat, "stream " + s.name + ": " + why);
      return out;
    };
    if (!settings_error_.empty()) return fail(error_category::config, settings_error_);
    auto* set = find(s);
    if (!set)
      return fail(error_category::config,
                  "no entity set named " + s.name + " in settings.entity_sets");
    out.error = classify_response(resp, "stream " + s.name);
    if (!out.error.ok()) return out;
    simdjson::dom::element doc;
    simdjson::dom::array values;
    auto records = model::records_at(resp.body, "/value");
    if (parser_.parse(resp.body).get(doc) || doc["value"].get_array().get(values) || !records.ok())
      return fail(error_category::upstream,
                  "the answer is not an OData collection (no \"value\" array of entities)");
    auto modified_ptr = "/" + set->modified_field;
    size_t i = 0;
    for (auto item : values) {
      const std::string& text = (*records)[i++];
      std::string modified;
      if (auto v = item.at_pointer(modified_ptr); !v.error())
        modified = scalar_text(v.value_unsafe());
      auto m = model::map_odata(text, set->map);
      if (!m.problems.empty()) {
        invalid_record bad;
        bad.id = m.record.id;
        for (auto& p : m.problems) bad.missing.push_back(p.field);
        bad.body = text;
        out.invalid.push_back(std::move(bad));
      } else {
        record_write w;
        w.stream = s.name;
        w.id = m.record.id;
        w.entity = m.record.entity;
        w.updated_at = modified;
        w.deleted = m.record.deleted;
        if (!w.deleted) w.body = model::to_json_text(m.record);
        w.hash_body();  // here, off the writer's thread
        out.records.push_back(std::move(w));
      }
      if (later(modified, out.max_updated, watermark_order::timestamp)) out.max_updated = modified;
    }
    // OData 4.01 may drop the "odata." prefix.
    for (auto key : {"@odata.count", "@count"})
      if (int64_t n; !doc[key].get_int64().get(n) && n >= 0) out.total = n;
    auto next = text_of(doc, "@odata.nextLink");
    if (next.empty()) next = text_of(doc, "@nextLink");
    if (!next.empty()) {
      // A relative link resolves against the collection's URL (base + "/" + set).
      auto resolved = resolve_next_url(base() + "/" + set->name, next);
      if (auto refused = refuse_next_url({c_.base_url, base() + "/"}, resolved); !refused.empty()) {
        out = page_result{};
        out.error = make_error_info(error_category::config, "stream " + s.name + ": " + refused);
        out.error.permanent = true;
        return out;
      }
      out.has_more = true;
      out.next_token = resolved;
    }
    return out;
  }

 private:
  const entity_set* find(const stream_config& s) const {
    for (auto& e : sets_)
      if (e.name == s.name) return &e;
    return nullptr;
  }

  std::string base() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  }

  http_request base_request() const {
    // IEEE754Compatible: Edm.Decimal comes as a string, so no amount passes through a double.
    return vendor_base_request(c_,
                               {{"OData-Version", "4.0"},
                                {"OData-MaxVersion", "4.0"},
                                {"Prefer", "odata.maxpagesize=" + std::to_string(page_size_)}},
                               "application/json;odata.metadata=minimal;IEEE754Compatible=true");
  }

  const integration_config& c_;
  int64_t page_size_ = 500;
  std::vector<entity_set> sets_;
  std::string settings_error_;
  simdjson::dom::parser parser_;
};

std::vector<stream_config> odata_streams(const json& settings) {
  std::vector<stream_config> out;
  auto sets = read_entity_sets(settings);
  if (!sets.ok()) {
    // A stand-in, so that saving goes on to the settings check and its message names the
    // setting rather than saying there are no streams.
    stream_config s;
    s.name = "entity_sets";
    s.path = "/entity_sets";
    out.push_back(std::move(s));
    return out;
  }
  for (auto& e : *sets) {
    stream_config s;
    s.name = e.name;
    s.entity = e.map.entity;
    s.path = "/" + e.name;
    s.records_pointer = "/value";
    s.id_pointer = "/" + e.id_field;
    s.updated_pointer = "/" + e.modified_field;
    s.incremental_param = "$filter";
    s.paging = pagination_style::next_url;
    s.next_url_pointer = "/@odata.nextLink";
    s.page_size_param.clear();
    s.page_size = static_cast<int>(settings.value("max_page_size", int64_t{500}));
    s.total_pointer = "/@odata.count";
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::string odata_literal(const std::string& value) {
  bool digits = !value.empty() && value.size() <= 18 &&
                std::all_of(value.begin() + (value[0] == '-' ? 1 : 0), value.end(),
                            [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }) &&
                value != "-";
  if (digits) return value;
  if (value.size() == 10 && model::is_canonical_date(value)) return value;
  if (value.find('T') != std::string::npos)
    if (auto t = parse_instant(value)) {
      auto text = model::datetime_from_unix(t->seconds);  // …:SSZ
      if (t->nanos) {
        auto frac = std::to_string(1'000'000'000 + t->nanos).substr(1);
        while (frac.back() == '0') frac.pop_back();
        text.insert(text.size() - 1, "." + frac);
      }
      return text;
    }
  std::string quoted = "'";
  for (char ch : value) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
  return quoted + "'";
}

connector_kind odata_connector_kind() {
  connector_kind k;
  k.name = "odata";
  k.label = "OData v4 service";
  k.description =
      "Any OData v4 service (ERPs, reconciliation platforms): each entity set in "
      "settings.entity_sets is a stream mapped to a canonical entity; paging by @odata.nextLink, "
      "changes by $filter on the set's modified field; the API key, when given, is sent as a "
      "bearer token.";
  setting_spec sets;
  sets.key = "entity_sets";
  sets.type = setting_type::array;
  sets.required = true;
  sets.help =
      "the entity sets to read, each {\"name\": \"Customers\", \"entity\": \"customer\", "
      "\"modified_field\": \"Modified\", \"id_field\": \"No\", \"field_map\": {\"fields\": "
      "{canonical field: property or /pointer}, \"currency\": \"EUR\", \"deleted\": "
      "\"IsDeleted\"}}";
  setting_spec page;
  page.key = "max_page_size";
  page.type = setting_type::integer;
  page.default_value = 500;
  page.min = 1;
  page.max = 10000;
  page.help = "entities per page asked with Prefer: odata.maxpagesize (the service may send fewer)";
  k.settings = {sets, page};
  k.default_streams = [] { return std::vector<stream_config>{}; };
  k.streams_from_settings = odata_streams;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<odata_connector>(c);
  };
  k.check = [](const json& settings) -> std::string {
    auto sets = read_entity_sets(settings);
    return sets.ok() ? "" : sets.error;
  };
  return k;
}

}  // namespace ledgersync
