#include "api/routes.hpp"

#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <set>

namespace ledgersync::api {

using json = nlohmann::json;

const char* role_name(role r) {
  return r == role::admin ? "admin" : "viewer";
}

namespace {

constexpr int64_t kMaxLimit = 10000;
constexpr int64_t kMaxWaitMs = 60000;  // the engine parks a feed wait at most this long

const std::string kIntegration = "/api/v1/integrations/{name}";

std::vector<route> make_routes() {
  auto i = [](const std::string& tail) { return kIntegration + tail; };
  const query_param limit{"limit", query_kind::count, "limit", kMaxLimit};
  return {
      {"GET", "/api/v1/integrations", "list", role::viewer, 200},
      {"POST", "/api/v1/integrations", "add", role::admin, 201, body_use::config},
      {"GET", i(""), "status", role::viewer, 200},
      {"PATCH", i(""), "configure", role::admin, 200, body_use::changes},
      {"DELETE", i(""), "remove", role::admin, 204},
      {"GET", i("/config"), "show", role::viewer, 200},
      {"POST", i("/enable"), "enable", role::admin, 200},
      {"POST", i("/disable"), "disable", role::admin, 200},
      {"POST", i("/test"), "test", role::admin, 200},
      {"POST", i("/connect"), "connect", role::admin, 200, body_use::args},
      {"POST", i("/sync"), "sync", role::admin, 202, body_use::optional},
      {"GET", i("/runs"), "run", role::viewer, 200, body_use::none, {limit}},
      {"GET", i("/runs/{run_id}"), "run", role::viewer, 200},
      {"GET",
       i("/runs/{run_id}/wait"),
       "wait",
       role::viewer,
       200,
       body_use::none,
       {{"timeout", query_kind::duration, "timeout_ms", 25000}}},
      {"GET",
       i("/logs"),
       "logs",
       role::viewer,
       200,
       body_use::none,
       {{"run", query_kind::sequence, "run_id"}, {"level", query_kind::level, "level"}, limit}},
      {"GET",
       i("/set-aside"),
       "set_aside",
       role::viewer,
       200,
       body_use::none,
       {{"include_dismissed", query_kind::flag, "include_dismissed"}}},
      {"POST", i("/set-aside/{stream}/{id}/dismiss"), "dismiss", role::admin, 200},
      {"GET",
       i("/records"),
       "records",
       role::viewer,
       200,
       body_use::none,
       {{"stream", query_kind::text, "stream"},
        {"entity", query_kind::text, "entity"},
        {"after", query_kind::text, "after"},
        limit}},
      {"GET", i("/records/{stream}/{id}"), "records", role::viewer, 200},
      {"POST", i("/push"), "push", role::admin, 202, body_use::args},
      {"GET",
       i("/pushes"),
       "pushes",
       role::viewer,
       200,
       body_use::none,
       {{"status", query_kind::text, "status"},
        {"entity", query_kind::text, "entity"},
        {"external_id", query_kind::text, "external_id"},
        {"after", query_kind::sequence, "after"},
        limit}},
      {"GET",
       "/api/v1/changes",
       "changes",
       role::viewer,
       200,
       body_use::none,
       {{"since", query_kind::sequence, "since"},
        limit,
        {"wait", query_kind::duration, "wait_ms", kMaxWaitMs}}},
      {"GET", "/api/v1/events", "events", role::viewer, 200},
      {"GET", "/api/v1/connectors", "connectors", role::viewer, 200},
      {"GET", "/api/v1/connectors/{kind}", "connectors", role::viewer, 200},
      // Webhook subscriptions: configuration, so reading them is for admins too.
      {"GET", "/api/v1/webhooks", "webhook_list", role::admin, 200},
      {"POST", "/api/v1/webhooks", "webhook_add", role::admin, 201, body_use::args},
      {"DELETE", "/api/v1/webhooks/{id}", "webhook_remove", role::admin, 204},
      {"GET", "/api/v1/webhooks/{id}/deliveries", "webhook_deliveries", role::admin, 200},
      {"POST", "/api/v1/webhooks/{id}/resume", "webhook_resume", role::admin, 200},
  };
}

std::vector<std::string> split_template(const std::string& path) {
  std::vector<std::string> out;
  size_t at = 1;
  while (at <= path.size()) {
    auto next = path.find('/', at);
    if (next == std::string::npos) next = path.size();
    out.push_back(path.substr(at, next - at));
    at = next + 1;
  }
  return out;
}

bool is_param(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{';
}

// Fills `call` from the path's {placeholders}; false (with `error`) when a value is unusable.
bool bind_path(const std::vector<std::string>& tmpl, const std::vector<std::string>& segs,
               op_call& call, api_error& error) {
  for (size_t k = 0; k < tmpl.size(); ++k) {
    if (!is_param(tmpl[k])) continue;
    auto key = tmpl[k].substr(1, tmpl[k].size() - 2);
    const auto& v = segs[k];
    if (key == "name") {
      call.integration = v;
    } else if (key == "run_id") {
      uint64_t id = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
      if (ec != std::errc() || p != v.data() + v.size()) {
        error = {400, "invalid_argument", "the run id '" + v + "' is not a number",
                 "run ids are the numbers listed by GET .../runs"};
        return false;
      }
      call.args["run_id"] = id;
    } else {
      call.args[key] = v;
    }
  }
  return true;
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::optional<api_error> bind_query(const query_param& q, std::string_view value, json& args) {
  auto bad = [&](const std::string& expected) {
    return api_error{
        400, "invalid_argument",
        "query parameter '" + q.name + "' is '" + std::string(value) + "'; expected " + expected,
        ""};
  };
  int64_t n = 0;
  switch (q.kind) {
    case query_kind::count:
      if (!parse_int(value, n) || n < 1 || n > q.max)
        return bad("a whole number from 1 to " + std::to_string(q.max));
      args[q.arg] = n;
      return std::nullopt;
    case query_kind::sequence:
      if (!parse_int(value, n) || n < 0) return bad("a whole number >= 0");
      args[q.arg] = n;
      return std::nullopt;
    case query_kind::duration: {
      auto ms = parse_duration_ms(value);
      if (!ms || *ms > q.max)
        return bad("a duration such as 30s or 500ms, at most " + std::to_string(q.max / 1000) +
                   "s");
      args[q.arg] = *ms;
      return std::nullopt;
    }
    case query_kind::level:
      if (value != "debug" && value != "info" && value != "warn" && value != "error")
        return bad("one of debug, info, warn, error");
      args[q.arg] = std::string(value);
      return std::nullopt;
    case query_kind::flag:
      if (value == "true" || value == "1")
        args[q.arg] = true;
      else if (value == "false" || value == "0")
        args[q.arg] = false;
      else
        return bad("true or false");
      return std::nullopt;
    case query_kind::text:
      if (value.empty()) return bad("a non-empty value");
      args[q.arg] = std::string(value);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

const std::vector<route>& routes() {
  static const std::vector<route> table = make_routes();
  return table;
}

json error_json(const std::string& code, const std::string& message, const std::string& hint) {
  return json{{"error", {{"code", code}, {"message", message}, {"hint", hint}}}};
}

int http_status_for(const std::string& kind) {
  if (kind == "invalid_argument") return 400;
  if (kind == "unauthorized") return 401;
  if (kind == "forbidden") return 403;
  if (kind == "not_found") return 404;
  if (kind == "conflict") return 409;
  if (kind == "rate_limited") return 429;
  if (kind == "upstream_failed") return 502;
  if (kind == "unavailable") return 503;
  return 500;
}

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int64_t n = 0;
  if (digits == 0 || digits > 9 || !parse_int(text.substr(0, digits), n)) return std::nullopt;
  auto unit = text.substr(digits);
  if (unit == "ms") return n;
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "m") return n * 60000;
  return std::nullopt;
}

match_outcome match(std::string_view method, std::string_view target) {
  match_outcome out;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    out.error = {400, "invalid_argument", "the request target is not a valid URL path", ""};
    return out;
  }
  std::vector<std::string> segs;
  for (auto s : url->segments()) segs.push_back(s);
  if (!segs.empty() && segs.back().empty()) segs.pop_back();  // a trailing slash
  std::set<std::string> allowed;
  for (auto& r : routes()) {
    auto tmpl = split_template(r.path);
    if (tmpl.size() != segs.size()) continue;
    bool same = true;
    for (size_t k = 0; k < tmpl.size() && same; ++k)
      same = is_param(tmpl[k]) ? !segs[k].empty() : tmpl[k] == segs[k];
    if (!same) continue;
    if (r.method != method) {
      allowed.insert(r.method);
      continue;
    }
    out.route = &r;
    matched m;
    m.route = &r;
    m.call.op = r.op;
    if (!bind_path(tmpl, segs, m.call, out.error)) return out;
    for (auto p : url->params()) {
      const query_param* q = nullptr;
      for (auto& c : r.query)
        if (c.name == p.key) q = &c;
      if (!q) {
        std::string known;
        for (auto& c : r.query) known += (known.empty() ? "" : ", ") + c.name;
        out.error = {400, "invalid_argument", "unknown query parameter '" + p.key + "'",
                     known.empty() ? "this endpoint takes no query parameters"
                                   : "this endpoint takes: " + known};
        return out;
      }
      if (auto e = bind_query(*q, p.value, m.call.args)) {
        out.error = *e;
        return out;
      }
    }
    out.ok = std::move(m);
    return out;
  }
  if (!allowed.empty()) {
    std::string allow;
    for (auto& a : allowed) allow += (allow.empty() ? "" : ", ") + a;
    out.error = {405, "method_not_allowed",
                 std::string(method) + " is not allowed on " + std::string(url->path()),
                 "allowed: " + allow, allow};
    return out;
  }
  out.error = {404, "not_found", "no endpoint at " + std::string(url->path()),
               "the API lives under /api/v1 (integrations, changes, events, connectors)"};
  return out;
}

std::optional<api_error> apply_body(const route& r, std::string_view content_type,
                                    const std::string& body, op_call& call) {
  bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (r.body == body_use::none) {
    if (blank) return std::nullopt;
    return api_error{400, "invalid_argument", r.method + " " + r.path + " takes no body",
                     "send the request without a body"};
  }
  if (blank && r.body == body_use::optional) return std::nullopt;
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "application/json")
    return api_error{415, "unsupported_media_type",
                     "the body must be JSON, not '" + std::string(content_type) + "'",
                     "send Content-Type: application/json"};
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return api_error{400, "invalid_argument", "the body is not valid JSON",
                     "check quotes, commas and brackets"};
  if (!j.is_object())
    return api_error{400, "invalid_argument", "the body must be a JSON object", ""};
  if (r.body == body_use::changes || r.body == body_use::config) {
    // "Run integration after saving" is a wish about this save, not a setting to store.
    if (j.contains("run_after_save")) {
      call.args["run_after_save"] = j["run_after_save"];
      j.erase("run_after_save");
    }
    call.args[r.body == body_use::changes ? "changes" : "config"] = std::move(j);
  } else {
    for (auto& [k, v] : j.items()) call.args[k] = v;
  }
  return std::nullopt;
}

}  // namespace ledgersync::api
