#include "config/integration_config.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "config/schedule.hpp"
#include "connectors/registry.hpp"

namespace ledgersync {

using nlohmann::json;

std::string pagination_name(pagination_style p) {
  switch (p) {
    case pagination_style::cursor:
      return "cursor";
    case pagination_style::page:
      return "page";
    case pagination_style::next_url:
      return "next_url";
    case pagination_style::link:
      return "link";
    case pagination_style::none:
      return "none";
    case pagination_style::offset:
      return "offset";
    case pagination_style::starting_after:
      return "starting_after";
  }
  return "none";
}

namespace {

// "a.b" and "a" become "/a/b" and "/a"; "/a/b" and "" stay as they are.
std::string normalize_pointer(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  std::string out = "/";
  for (char c : p) out += c == '.' ? '/' : c;
  return out;
}

stream_config make_stream(std::string name, std::string entity, std::vector<std::string> req) {
  stream_config s;
  s.name = name;
  s.path = "/v1/" + name;
  s.entity = std::move(entity);
  for (auto& r : req) s.required.push_back("/" + r);
  return s;
}

bool iequals(const std::string& a, const char* b) {
  return a.size() == std::strlen(b) && std::equal(a.begin(), a.end(), b, [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

bool is_http_date_header(const std::string& h) {
  return iequals(h, "if-modified-since") || iequals(h, "if-unmodified-since");
}

bool valid_header_name(const std::string& h) {
  return !h.empty() && h.find_first_of(" :\r\n") == std::string::npos;
}

// Reads typed fields out of an object and complains about anything it does not know.
class reader {
 public:
  reader(const json& j, std::string where, std::string& error)
      : j_(j), where_(std::move(where)), error_(error) {
    if (!j_.is_object()) fail("must be a JSON object");
  }
  bool ok() const { return error_.empty(); }

  template <class T>
  void get(const char* key, T& out) {
    seen_.insert(key);
    if (!ok() || !j_.contains(key) || j_[key].is_null()) return;
    try {
      out = j_[key].get<T>();
    } catch (const std::exception&) {
      fail(std::string("'") + key + "' has the wrong type");
    }
  }
  // Absent or null leaves `out` unset.
  template <class T>
  void get_opt(const char* key, std::optional<T>& out) {
    bool given = j_.contains(key) && !j_[key].is_null();
    T v{};
    get(key, v);
    if (given && ok()) out = v;
  }
  const json* sub(const char* key) {
    seen_.insert(key);
    if (!ok() || !j_.contains(key) || j_[key].is_null()) return nullptr;
    return &j_[key];
  }
  void finish() {
    if (!ok()) return;
    for (auto& [k, v] : j_.items())
      if (!seen_.count(k)) return fail("unknown key '" + k + "'");
  }
  void fail(const std::string& msg) {
    if (error_.empty()) error_ = where_ + ": " + msg;
  }

 private:
  const json& j_;
  std::string where_;
  std::string& error_;
  std::set<std::string> seen_;
};

}  // namespace

std::vector<stream_config> default_rest_streams() {
  return {make_stream("customers", "customer", {"name", "email"}),
          make_stream("invoices", "invoice", {"customer_id", "total", "currency"}),
          make_stream("payments", "payment", {"invoice_id", "amount", "currency"})};
}

json to_json(const stream_config& s) {
  json j{{"name", s.name},           {"path", s.path},
         {"entity", s.entity},       {"records", s.records_pointer},
         {"id", s.id_pointer},       {"updated_at", s.updated_pointer},
         {"total", s.total_pointer}, {"required", s.required}};
  if (!s.incremental_header.empty())
    j["incremental"] = {{"header", s.incremental_header}};
  else
    j["incremental"] = {{"param", s.incremental_param}};
  j["incremental"]["format"] =
      s.since_format == watermark_format::http_date ? "http_date" : "iso8601";
  if (!s.total_header.empty()) j["total_header"] = s.total_header;
  json p{{"style", pagination_name(s.paging)}};
  switch (s.paging) {
    case pagination_style::cursor:
      p["param"] = s.cursor_param;
      p["field"] = s.cursor_pointer;
      break;
    case pagination_style::page:
      p["param"] = s.page_param;
      p["first"] = s.first_page;
      if (!s.page_count_pointer.empty()) p["page_count"] = s.page_count_pointer;
      break;
    case pagination_style::next_url:
      p["field"] = s.next_url_pointer;
      break;
    case pagination_style::offset:
      p["param"] = s.offset_param;
      p["first"] = s.first_offset;
      break;
    case pagination_style::starting_after:
      p["param"] = s.starting_after_param;
      p["field"] = s.has_more_pointer;
      break;
    default:
      break;
  }
  j["pagination"] = p;
  j["page_size"] = {{"param", s.page_size_param}, {"value", s.page_size}};
  if (!s.deleted_pointer.empty()) j["deleted"] = s.deleted_pointer;
  if (!s.query.empty()) j["query"] = s.query;
  return j;
}

std::optional<stream_config> stream_from_json(const json& j, std::string& error) {
  stream_config s;
  std::string where = "stream";
  if (j.is_object() && j.contains("name") && j["name"].is_string())
    where += " '" + j["name"].get<std::string>() + "'";
  reader r(j, where, error);
  r.get("name", s.name);
  r.get("path", s.path);
  r.get("entity", s.entity);
  r.get("records", s.records_pointer);
  r.get("id", s.id_pointer);
  r.get("updated_at", s.updated_pointer);
  r.get("total", s.total_pointer);
  r.get("total_header", s.total_header);
  r.get("deleted", s.deleted_pointer);
  r.get("required", s.required);
  r.get("query", s.query);
  if (auto inc = r.sub("incremental")) {
    reader ri(*inc, where + " incremental", error);
    ri.get("param", s.incremental_param);
    ri.get("header", s.incremental_header);
    // Without a format, If-Modified-Since and If-Unmodified-Since get the HTTP-date they
    // require, and everything else the watermark as the upstream wrote it.
    std::string format;
    ri.get("format", format);
    ri.finish();
    if (format == "http_date" || (format.empty() && is_http_date_header(s.incremental_header)))
      s.since_format = watermark_format::http_date;
    else if (!format.empty() && format != "iso8601")
      ri.fail("unknown format '" + format + "' (iso8601, http_date)");
  }
  if (auto pg = r.sub("pagination")) {
    reader rp(*pg, where + " pagination", error);
    std::string style = "cursor", field, param;
    int64_t first_value = 0;
    rp.get("style", style);
    rp.get("param", param);
    rp.get("field", field);
    rp.get("first", first_value);
    bool first = pg->is_object() && pg->contains("first") && !(*pg)["first"].is_null();
    rp.get("page_count", s.page_count_pointer);
    rp.finish();
    if (first && (first_value < -1000000000 || first_value > 1000000000))
      rp.fail("'first' must be between -1000000000 and 1000000000");
    if (style == "cursor") {
      s.paging = pagination_style::cursor;
      if (!param.empty()) s.cursor_param = param;
      if (!field.empty()) s.cursor_pointer = field;
    } else if (style == "page") {
      s.paging = pagination_style::page;
      if (!param.empty()) s.page_param = param;
      if (first) s.first_page = static_cast<int>(first_value);
    } else if (style == "next_url") {
      s.paging = pagination_style::next_url;
      s.next_url_pointer = field;
      if (field.empty()) rp.fail("next_url paging needs 'field' (the body field with the URL)");
    } else if (style == "link") {
      s.paging = pagination_style::link;
    } else if (style == "none") {
      s.paging = pagination_style::none;
    } else if (style == "offset") {
      s.paging = pagination_style::offset;
      if (!param.empty()) s.offset_param = param;
      if (first) s.first_offset = first_value;
    } else if (style == "starting_after") {
      s.paging = pagination_style::starting_after;
      if (!param.empty()) s.starting_after_param = param;
      if (!field.empty()) s.has_more_pointer = field;
    } else {
      rp.fail("unknown style '" + style +
              "' (cursor, page, next_url, link, offset, starting_after, none)");
    }
  }
  if (auto ps = r.sub("page_size")) {
    reader rs(*ps, where + " page_size", error);
    rs.get("param", s.page_size_param);
    rs.get("value", s.page_size);
    rs.finish();
  }
  r.finish();
  if (!error.empty()) return std::nullopt;
  for (auto* p :
       {&s.records_pointer, &s.id_pointer, &s.updated_pointer, &s.total_pointer, &s.cursor_pointer,
        &s.next_url_pointer, &s.page_count_pointer, &s.deleted_pointer, &s.has_more_pointer})
    *p = normalize_pointer(*p);
  for (auto& q : s.required) q = normalize_pointer(q);
  if (s.entity.empty()) s.entity = s.name;
  return s;
}

std::optional<std::vector<stream_config>> streams_from_json(const json& j, std::string& error) {
  const json* arr = &j;
  if (j.is_object() && j.contains("streams")) arr = &j["streams"];
  if (!arr->is_array()) {
    error = "streams: expected a JSON array of stream objects (or {\"streams\": [...]})";
    return std::nullopt;
  }
  std::vector<stream_config> out;
  for (auto& e : *arr) {
    auto s = stream_from_json(e, error);
    if (!s) return std::nullopt;
    out.push_back(std::move(*s));
  }
  return out;
}

json to_json(const integration_config& c, bool with_secret) {
  json streams = json::array();
  for (auto& s : c.streams) streams.push_back(to_json(s));
  json j{{"name", c.name},
         {"connector", c.connector},
         {"base_url", c.base_url},
         {"auth_header", c.auth_header},
         {"auth_scheme", c.auth_scheme},
         {"schedule", c.schedule},
         {"enabled", c.enabled},
         {"streams", streams},
         {"headers", c.headers},
         {"manual_burst", c.manual_burst},
         {"manual_refill_s", c.manual_refill_s},
         {"request_timeout_ms", c.request_timeout_ms},
         {"max_body_bytes", c.max_body_bytes},
         {"retry_max_attempts", c.retry.max_attempts},
         {"retry_base_ms", c.retry.base.count()},
         {"retry_cap_ms", c.retry.cap.count()},
         {"max_pages_per_pass", c.max_pages_per_pass},
         {"reconcile", c.reconcile},
         {"log_retention_days", c.retention.days},
         {"log_retention_events", c.retention.events},
         {"log_retention_runs", c.retention.runs},
         {"created_at_ms", c.created_at_ms}};
  if (c.upstream_rate_per_s) j["upstream_rate_per_s"] = *c.upstream_rate_per_s;
  if (c.upstream_burst) j["upstream_burst"] = *c.upstream_burst;
  if (with_secret)
    j["api_key"] = c.api_key;
  else
    j["api_key_hint"] = mask_key(c.api_key);
  if (!c.tls.ca_pem.empty()) j["tls_ca_pem"] = c.tls.ca_pem;
  if (!c.tls.client_cert_pem.empty()) j["tls_client_cert_pem"] = c.tls.client_cert_pem;
  if (!c.tls.server_name.empty()) j["tls_server_name"] = c.tls.server_name;
  if (!c.tls.client_key_pem.empty()) {
    if (with_secret)
      j["tls_client_key"] = c.tls.client_key_pem;
    else
      j["tls_client_key_hint"] = "(set, sealed)";
  }
  j["settings"] = c.settings.is_object() ? c.settings : json::object();
  if (!with_secret) {
    json hints = json::object();
    for (auto& key : secret_setting_keys(c.connector))
      if (j["settings"].contains(key)) {
        j["settings"].erase(key);
        hints[key] = "(set, sealed)";
      }
    if (!hints.empty()) j["settings_hints"] = hints;
  }
  return j;
}

std::optional<integration_config> config_from_json(const json& j, std::string& error) {
  integration_config c;
  reader r(j, "integration", error);
  r.get("name", c.name);
  r.get("connector", c.connector);
  r.get("base_url", c.base_url);
  r.get("api_key", c.api_key);
  std::string hint;
  r.get("api_key_hint", hint);
  r.get("auth_header", c.auth_header);
  r.get("auth_scheme", c.auth_scheme);
  r.get("schedule", c.schedule);
  r.get("enabled", c.enabled);
  r.get("headers", c.headers);
  r.get("manual_burst", c.manual_burst);
  r.get("manual_refill_s", c.manual_refill_s);
  r.get_opt("upstream_rate_per_s", c.upstream_rate_per_s);
  r.get_opt("upstream_burst", c.upstream_burst);
  r.get("request_timeout_ms", c.request_timeout_ms);
  r.get("max_body_bytes", c.max_body_bytes);
  r.get("retry_max_attempts", c.retry.max_attempts);
  int64_t base = c.retry.base.count(), cap = c.retry.cap.count();
  r.get("retry_base_ms", base);
  r.get("retry_cap_ms", cap);
  c.retry.base = std::chrono::milliseconds(base);
  c.retry.cap = std::chrono::milliseconds(cap);
  r.get("max_pages_per_pass", c.max_pages_per_pass);
  r.get("reconcile", c.reconcile);
  r.get("log_retention_days", c.retention.days);
  r.get("log_retention_events", c.retention.events);
  r.get("log_retention_runs", c.retention.runs);
  r.get("created_at_ms", c.created_at_ms);
  r.get("tls_ca_pem", c.tls.ca_pem);
  r.get("tls_client_cert_pem", c.tls.client_cert_pem);
  r.get("tls_client_key", c.tls.client_key_pem);
  r.get("tls_server_name", c.tls.server_name);
  std::string key_hint;
  r.get("tls_client_key_hint", key_hint);
  if (auto st = r.sub("settings")) {
    if (!st->is_object()) r.fail("'settings' must be a JSON object (the connector's own settings)");
    c.settings = *st;
    // null is how a change removes a setting (a merge patch); stored, it means "not set".
    if (c.settings.is_object())
      for (auto it = c.settings.begin(); it != c.settings.end();)
        it = it->is_null() ? c.settings.erase(it) : std::next(it);
  }
  r.sub("settings_hints");  // what a shown config carries instead of secret settings
  if (auto s = r.sub("streams")) {
    auto streams = streams_from_json(*s, error);
    if (!streams) return std::nullopt;
    c.streams = std::move(*streams);
  }
  r.finish();
  if (!error.empty()) return std::nullopt;
  return c;
}

retention_settings retention_of(const json& config) {
  retention_settings r;
  if (!config.is_object()) return r;
  auto get = [&](const char* key, int64_t& out) {
    if (config.contains(key) && config[key].is_number_integer()) out = config[key].get<int64_t>();
  };
  get("log_retention_days", r.days);
  get("log_retention_events", r.events);
  get("log_retention_runs", r.runs);
  return r;
}

bool drop_old_rate_defaults(json& config) {
  if (!config.is_object() || !config.contains("upstream_rate_per_s") ||
      !config.contains("upstream_burst"))
    return false;
  bool changed = false;
  for (auto* key : {"upstream_rate_per_s", "upstream_burst"})
    if (config[key].is_number() && config[key].get<double>() == 20.0) {
      config.erase(key);
      changed = true;
    }
  return changed;
}

bool valid_integration_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char ch : n)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
      return false;
  return true;
}

std::string validate(const integration_config& c) {
  if (!valid_integration_name(c.name))
    return "name '" + c.name + "' is invalid: 1-64 characters of letters, digits, '-', '_', '.'";
  auto* kind = find_connector_kind(c.connector);
  if (!kind)
    return "unknown connector '" + c.connector + "' (known: " + known_connector_kinds() +
           "; the connectors list describes each)";
  if (c.base_url.empty()) return "base URL is required: the upstream API's address";
  auto u = boost::urls::parse_absolute_uri(c.base_url);
  if (!u) return "base URL '" + c.base_url + "' is not an absolute URL";
  auto scheme = u->scheme();
  if (scheme != "http" && scheme != "https" && scheme != "file")
    return "base URL '" + c.base_url + "' must use http, https or file";
  if (scheme != "file" && u->host().empty()) return "base URL '" + c.base_url + "' has no host";
  std::string err;
  if (!schedule::parse(c.schedule, err)) return "schedule: " + err;
  if (!schedule::parse(c.reconcile, err)) return "reconcile schedule: " + err;
  if (c.max_pages_per_pass < 1) return "max_pages_per_pass must be at least 1";
  if (c.streams.empty()) return "no streams configured";
  std::set<std::string> names;
  for (auto& s : c.streams) {
    if (!valid_integration_name(s.name)) return "stream name '" + s.name + "' is invalid";
    if (!names.insert(s.name).second) return "stream '" + s.name + "' is configured twice";
    if (s.path.empty() || (s.path[0] != '/' && s.path.rfind("http", 0) != 0))
      return "stream '" + s.name + "': path must start with '/'";
    if (s.page_size < 1 || s.page_size > 10000)
      return "stream '" + s.name + "': page size must be between 1 and 10000";
    if (s.paging == pagination_style::next_url && s.next_url_pointer.empty())
      return "stream '" + s.name + "': next_url paging needs a field";
    if (!s.incremental_header.empty() && !valid_header_name(s.incremental_header))
      return "stream '" + s.name + "': incremental header '" + s.incremental_header +
             "' is not a valid HTTP header name";
    if (!s.total_header.empty() && !valid_header_name(s.total_header))
      return "stream '" + s.name + "': total_header '" + s.total_header +
             "' is not a valid HTTP header name";
  }
  if (c.manual_burst < 1 || c.manual_burst > 100) return "manual_burst must be 1-100";
  if (c.manual_refill_s < 1) return "manual_refill_s must be at least 1";
  if (c.upstream_rate_per_s && !(*c.upstream_rate_per_s > 0))
    return "upstream_rate_per_s must be positive";
  if (c.upstream_burst && *c.upstream_burst < 1) return "upstream_burst must be at least 1";
  if (c.request_timeout_ms < 100) return "request_timeout_ms must be at least 100";
  if (c.max_body_bytes < 1024) return "max_body_bytes must be at least 1024";
  if (c.retry.max_attempts < 1 || c.retry.max_attempts > 20)
    return "retry_max_attempts must be 1-20";
  if (c.retention.days < 1 || c.retention.days > 3650) return "log_retention_days must be 1-3650";
  if (c.retention.events < 1 || c.retention.events > 100000000)
    return "log_retention_events must be 1-100000000";
  if (c.retention.runs < 1 || c.retention.runs > 1000000)
    return "log_retention_runs must be 1-1000000";
  for (auto& [k, v] : c.headers)
    if (!valid_header_name(k) || v.find_first_of("\r\n") != std::string::npos)
      return "header '" + k + "' is not a valid HTTP header";
  if (c.api_key.find_first_of("\r\n") != std::string::npos) return "API key contains a line break";
  if (auto t = check_tls_options(c.tls); !t.empty()) return t;
  if (auto e = validate_settings(*kind, c.settings); !e.empty()) return e;
  if ((!c.tls.ca_pem.empty() || !c.tls.client_cert_pem.empty() || !c.tls.server_name.empty()) &&
      u->scheme() != "https")
    return "TLS settings apply only to an https base URL";
  return "";
}

std::string mask_key(const std::string& key) {
  if (key.empty()) return "(none)";
  if (key.size() <= 8) return "…" + key.substr(key.size() - std::min<size_t>(2, key.size()));
  return "…" + key.substr(key.size() - 4);
}

}  // namespace ledgersync
