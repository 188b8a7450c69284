// The generic REST connector: every behaviour comes from the stream's settings (paths, JSON
// pointers, paging style, incremental parameter). Pages are parsed with simdjson's DOM, and
// each record's raw bytes are kept as minified JSON.
#include <simdjson.h>

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"
#include "connectors/json_text.hpp"
#include "connectors/paging.hpp"
#include "connectors/registry.hpp"
#include "connectors/watermark.hpp"

namespace ledgersync {

namespace {

// Where a rest stream stands: the state it keeps in its cursor. The names are those of the
// cursor fields it replaced, so cursors stored before connectors owned their state read as is.
struct rest_state {
  std::string watermark;   // highest updated_at of the last completed pass
  std::string pass_since;  // the watermark this pass filters by ("" = everything)
  std::string page_token;  // where the pass goes on: cursor, page number or next URL
  std::string pass_max;    // highest updated_at committed so far in this pass

  static rest_state parse(const std::string& text) {
    rest_state st;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return st;  // "" before the first pass (or another kind's state)
    auto get = [&](const char* key, std::string& out) {
      if (j.contains(key) && j[key].is_string()) out = j[key].get<std::string>();
    };
    get("watermark", st.watermark);
    get("pass_since", st.pass_since);
    get("page_token", st.page_token);
    get("pass_max", st.pass_max);
    return st;
  }
  std::string dump() const {
    nlohmann::json j = nlohmann::json::object();
    if (!watermark.empty()) j["watermark"] = watermark;
    if (!pass_since.empty()) j["pass_since"] = pass_since;
    if (!page_token.empty()) j["page_token"] = page_token;
    if (!pass_max.empty()) j["pass_max"] = pass_max;
    return j.dump();
  }
};

bool present(simdjson::dom::element rec, const std::string& ptr) {
  auto v = rec.at_pointer(ptr);
  if (v.error()) return false;
  auto e = v.value_unsafe();
  if (e.is_null()) return false;
  if (e.is_string() && std::string_view(e).empty()) return false;
  return true;
}

std::unique_ptr<paging_strategy> strategy_for(const stream_config& s) {
  switch (s.paging) {
    case pagination_style::cursor:
      return cursor_paging(s.cursor_param, s.cursor_pointer);
    case pagination_style::page:
      return page_number_paging(s.page_param, s.first_page, s.page_size, s.page_count_pointer);
    case pagination_style::next_url:
      return next_url_paging(s.next_url_pointer);
    case pagination_style::link:
      return link_header_paging();
    case pagination_style::offset:
      return offset_paging(s.offset_param, s.first_offset, s.page_size, s.total_pointer);
    case pagination_style::starting_after:
      return starting_after_paging(s.starting_after_param, s.has_more_pointer);
    case pagination_style::none:
      break;
  }
  return no_paging();
}

class rest_connector final : public connector {
 public:
  explicit rest_connector(const integration_config& c)
      : c_(c),
        order_(c.settings.is_object() && c.settings.value("watermark_order", "") == "text"
                   ? watermark_order::text
                   : watermark_order::timestamp) {}

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = rest_state::parse(state);
    st.pass_since = full ? "" : st.watermark;
    st.page_token.clear();
    st.pass_max.clear();
    return st.dump();
  }

  // The last page of a pass makes the pass's highest updated_at the new watermark; the next
  // pass asks for records updated at or after it (inclusive, so a record sharing the
  // watermark's instant is not missed; it comes back unchanged and its content hash keeps it
  // from being written again).
  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = rest_state::parse(state);
    if (later(page.max_updated, st.pass_max, order_)) st.pass_max = page.max_updated;
    if (page.has_more) {
      st.page_token = page.next_token;
      return st.dump();
    }
    if (later(st.pass_max, st.watermark, order_)) st.watermark = st.pass_max;
    st.page_token.clear();
    st.pass_since.clear();
    st.pass_max.clear();
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    return rest_state::parse(state).page_token;
  }

  http_request page_request(const stream_config& s, const stream_cursor& c) const override {
    auto cur = rest_state::parse(c.state);
    http_request r = base_request();
    auto paging = strategy_for(s);
    auto first = stream_url(s);
    restrict_to(r, std::string(first.buffer()));
    if (paging->token_is_url() && !cur.page_token.empty()) {
      r.url = resolve_next_url(c_.base_url, cur.page_token);
    } else {
      boost::urls::url u = first;
      auto params = u.params();
      if (!s.page_size_param.empty()) params.set(s.page_size_param, std::to_string(s.page_size));
      auto since = since_text(s, cur);
      if (!since.empty() && s.incremental_header.empty() && !s.incremental_param.empty())
        params.set(s.incremental_param, since);
      paging->apply(cur.page_token, u);
      r.url = std::string(u.buffer());
    }
    if (auto since = since_text(s, cur); !since.empty() && !s.incremental_header.empty())
      r.headers.emplace_back(s.incremental_header, since);
    return r;
  }

  http_request probe_request(const stream_config& s) const override {
    http_request r = base_request();
    boost::urls::url u = stream_url(s);
    restrict_to(r, std::string(u.buffer()));
    if (!s.page_size_param.empty()) u.params().set(s.page_size_param, "1");
    r.url = std::string(u.buffer());
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor& c,
                         const http_response& resp) override {
    auto cur = rest_state::parse(c.state);
    page_result out;
    // "Nothing changed since the watermark": the pass ends here, cleanly and empty. Only an
    // answer to a conditional request can mean that.
    if (resp.status == 304 && !since_text(s, cur).empty() && !s.incremental_header.empty())
      return out;
    out.error = classify_response(resp, "stream " + s.name);
    if (!out.error.ok()) return out;
    simdjson::dom::element doc;
    auto err = parser_.parse(resp.body).get(doc);
    if (err) {
      out.error = make_error_info(error_category::upstream,
                                  "stream " + s.name + ": the upstream answered malformed JSON (" +
                                      simdjson::error_message(err) + ")");
      // Bytes that are not UTF-8 or nest deeper than the parser allows come back the same way
      // on every try; a cut-off or garbled body may not.
      out.error.permanent = err == simdjson::UTF8_ERROR || err == simdjson::DEPTH_ERROR;
      return out;
    }
    simdjson::dom::array arr;
    auto arr_err = s.records_pointer.empty()
                       ? doc.get_array().get(arr)
                       : doc.at_pointer(s.records_pointer).get_array().get(arr);
    if (arr_err) {
      out.error = make_error_info(error_category::upstream,
                                  "stream " + s.name + ": no records array at '" +
                                      s.records_pointer + "' in the upstream's answer");
      return out;
    }
    size_t count = 0;
    std::string last_id;
    out.records.reserve(arr.size());
    for (auto rec : arr) {
      ++count;
      std::string id;
      if (auto v = rec.at_pointer(s.id_pointer); !v.error()) id = scalar_text(v.value_unsafe());
      last_id = id;
      std::string updated;
      if (!s.updated_pointer.empty())
        if (auto v = rec.at_pointer(s.updated_pointer); !v.error())
          updated = scalar_text(v.value_unsafe());
      invalid_record bad;
      if (id.empty() || id.size() > 300) bad.missing.push_back(s.id_pointer.substr(1));
      for (auto& req : s.required)
        if (!present(rec, req)) bad.missing.push_back(req.substr(1));
      if (later(updated, out.max_updated, order_)) out.max_updated = updated;
      if (!bad.missing.empty()) {
        bad.body = simdjson::minify(rec);
        // Without a usable id the entry is keyed by its content, so the same record seen
        // again is one entry, not one per sighting.
        bad.id = id.empty() || id.size() > 300
                     ? "(no id, content " + std::to_string(content_hash(bad.body)) + ")"
                     : id;
        out.invalid.push_back(std::move(bad));
        continue;
      }
      record_write w;
      w.stream = s.name;
      w.id = std::move(id);
      w.entity = s.entity;  // the stream's: its bodies are the upstream's own
      w.updated_at = std::move(updated);
      if (!s.deleted_pointer.empty())
        if (auto v = rec.at_pointer(s.deleted_pointer); !v.error()) {
          auto t = scalar_text(v.value_unsafe());
          w.deleted = t == "true" || t == "Deleted" || t == "deleted";
        }
      if (!w.deleted) w.body = simdjson::minify(rec);
      w.hash_body();  // here, off the writer's thread
      out.records.push_back(std::move(w));
    }
    if (!s.total_pointer.empty())
      if (auto v = doc.at_pointer(s.total_pointer); !v.error()) {
        int64_t t;
        if (!v.value_unsafe().get_int64().get(t)) out.total = t;
      }
    if (!s.total_header.empty())
      if (auto t = total_from_header(resp.header(s.total_header)); t >= 0) out.total = t;
    auto next =
        strategy_for(s)->next(page_view{doc, resp, count, last_id}, cur.page_token,
                              paging_origin{std::string(stream_url(s).buffer()), c_.base_url});
    if (!next.error.ok()) {
      page_result bad;
      bad.error = std::move(next.error);
      bad.error.message = "stream " + s.name + ": " + bad.error.message;
      return bad;
    }
    out.has_more = next.has_more;
    out.next_token = std::move(next.token);
    return out;
  }

 private:
  // The watermark as this stream's request carries it; empty when the pass is not incremental
  // or the watermark is no time an HTTP-date can express (then the request asks for everything,
  // which costs time but misses nothing).
  static std::string since_text(const stream_config& s, const rest_state& cur) {
    if (cur.pass_since.empty() || s.since_format == watermark_format::iso8601)
      return cur.pass_since;
    return http_date_of(cur.pass_since);
  }

  http_request base_request() const {
    http_request r;
    r.timeout_ms = c_.request_timeout_ms;
    r.max_body_bytes = c_.max_body_bytes;
    r.headers.emplace_back("Accept", "application/json");
    if (!c_.api_key.empty())
      r.headers.emplace_back(
          c_.auth_header, c_.auth_scheme.empty() ? c_.api_key : c_.auth_scheme + " " + c_.api_key);
    for (auto& [k, v] : c_.headers) r.headers.emplace_back(k, v);
    if (auto h = c_.settings.find("secret_headers"); h != c_.settings.end() && h->is_object())
      for (auto& [k, v] : h->items())
        if (v.is_string()) r.headers.emplace_back(k, v.get<std::string>());
    return r;
  }

  boost::urls::url stream_url(const stream_config& s) const {
    std::string base = c_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    boost::urls::url u(s.path.rfind("http", 0) == 0 ? s.path : base + s.path);
    for (auto& [k, v] : s.query) u.params().set(k, v);
    return u;
  }

  // The stream's own URL comes from the settings the admin wrote: it fixes the one origin this
  // stream's requests may reach (and whether a local file may be read).
  static void restrict_to(http_request& r, const std::string& configured_url) {
    r.allow_file = configured_url.rfind("file:", 0) == 0;
    r.allowed_origin = r.allow_file ? "" : origin_of(configured_url);
  }

  const integration_config& c_;
  watermark_order order_;
  simdjson::dom::parser parser_;
};

}  // namespace

std::unique_ptr<connector> make_connector(const integration_config& config) {
  auto* kind = find_connector_kind(config.connector);
  return kind ? kind->make(config) : nullptr;
}

connector_kind rest_connector_kind() {
  connector_kind k;
  k.name = "rest";
  k.label = "Generic REST API";
  k.description =
      "Any JSON REST API: each stream's path, record fields (JSON pointers), paging and "
      "incremental filter come from its stream settings (--streams-file).";
  setting_spec secret_headers;
  secret_headers.key = "secret_headers";
  secret_headers.type = setting_type::object;
  secret_headers.secret = true;
  secret_headers.help =
      "extra request headers whose values are secrets (e.g. {\"X-Tenant-Key\": \"...\"}): "
      "sealed at rest and never shown, unlike the top-level headers";
  setting_spec order;
  order.key = "watermark_order";
  order.type = setting_type::enumeration;
  order.allowed = {"timestamp", "text"};
  order.default_value = "timestamp";
  order.help =
      "how updated_at values compare: timestamp reads ISO 8601 instants (any fraction, Z or an "
      "offset) and epoch numbers as the moments they name; text compares them as strings (for "
      "version strings that sort as text)";
  setting_spec oauth;
  oauth.key = "oauth";
  oauth.type = setting_type::boolean;
  oauth.default_value = false;
  oauth.help =
      "sign in with OAuth 2.0 (`ledgersync connect NAME`) at auth_base_url's /oauth/authorize "
      "and /oauth/token instead of a fixed api_key; the access token is refreshed as it expires";
  k.settings = {order, secret_headers, oauth};
  append_oauth_settings(k.settings);
  oauth_flow flow;
  flow.client_credentials = true;
  flow.optional = true;
  k.oauth = flow;
  k.streams = {
      {"customers", "customer", "customers (required: name, email) at /v1/customers"},
      {"invoices", "invoice", "invoices (required: customer_id, total, currency) at /v1/invoices"},
      {"payments", "payment", "payments (required: invoice_id, amount, currency) at /v1/payments"}};
  k.default_streams = default_rest_streams;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<rest_connector>(c);
  };
  k.check = [](const nlohmann::json& settings) -> std::string {
    auto headers = settings.value("secret_headers", nlohmann::json::object());
    for (auto& [name, value] : headers.items()) {
      if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos)
        return "settings.secret_headers: '" + name + "' is not a valid HTTP header name";
      if (!value.is_string() || value.get<std::string>().find_first_of("\r\n") != std::string::npos)
        return "settings.secret_headers." + name + " must be a string without line breaks";
    }
    if (settings.value("oauth", false)) {
      // A generic API has no vendor endpoints to fall back on.
      for (auto* key : {"auth_base_url", "client_id"})
        if (settings.value(key, "").empty())
          return std::string("settings.") + key + " is required when settings.oauth is true";
      auto base = settings.value("auth_base_url", "");
      if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0)
        return "settings.auth_base_url must be an http:// or https:// URL";
    }
    return "";
  };
  return k;
}

}  // namespace ledgersync
