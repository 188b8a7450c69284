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
#include "connectors/registry.hpp"

namespace ledgersync {

std::string stream_cursor::to_json() const {
  return nlohmann::json{{"watermark", watermark},
                        {"in_pass", in_pass},
                        {"pass_since", pass_since},
                        {"page_token", page_token},
                        {"pass_max", pass_max},
                        {"pages", pages},
                        {"full", full},
                        {"pass_id", pass_id}}
      .dump();
}

stream_cursor stream_cursor::from_json(const std::string& s) {
  stream_cursor c;
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_object()) return c;
  c.watermark = j.value("watermark", "");
  c.in_pass = j.value("in_pass", false);
  c.pass_since = j.value("pass_since", "");
  c.page_token = j.value("page_token", "");
  c.pass_max = j.value("pass_max", "");
  c.pages = j.value("pages", uint64_t{0});
  c.full = j.value("full", false);
  c.pass_id = j.value("pass_id", "");
  return c;
}

stream_cursor cursor_after(const stream_cursor& c, const page_result& page) {
  auto next = c;
  next.pages += 1;
  if (page.max_updated > next.pass_max) next.pass_max = page.max_updated;
  if (page.has_more) {
    next.page_token = page.next_token;
    return next;
  }
  if (next.pass_max > next.watermark) next.watermark = next.pass_max;
  next.in_pass = false;
  next.page_token.clear();
  next.pass_since.clear();
  next.pass_max.clear();
  next.full = false;
  next.pass_id.clear();
  return next;
}

namespace {

// Text of a scalar JSON value (ids and timestamps may be numbers); empty for null/missing.
std::string scalar_text(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(std::string_view(e));
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(e));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(e));
    case simdjson::dom::element_type::DOUBLE: {
      auto s = simdjson::minify(e);
      return s;
    }
    case simdjson::dom::element_type::BOOL:
      return bool(e) ? "true" : "false";
    default:
      return "";
  }
}

bool present(simdjson::dom::element rec, const std::string& ptr) {
  auto v = rec.at_pointer(ptr);
  if (v.error()) return false;
  auto e = v.value_unsafe();
  if (e.is_null()) return false;
  if (e.is_string() && std::string_view(e).empty()) return false;
  return true;
}

class rest_connector final : public connector {
 public:
  explicit rest_connector(const integration_config& c) : c_(c) {}

  http_request page_request(const stream_config& s, const stream_cursor& cur) const override {
    http_request r = base_request();
    bool token_is_url =
        (s.paging == pagination_style::next_url || s.paging == pagination_style::link) &&
        !cur.page_token.empty();
    auto first = stream_url(s);
    restrict_to(r, std::string(first.buffer()));
    if (token_is_url) {
      r.url = resolve(cur.page_token);
    } else {
      boost::urls::url u = first;
      auto params = u.params();
      if (!s.page_size_param.empty()) params.set(s.page_size_param, std::to_string(s.page_size));
      auto since = since_text(s, cur);
      if (!since.empty() && s.incremental_header.empty() && !s.incremental_param.empty())
        params.set(s.incremental_param, since);
      if (s.paging == pagination_style::cursor && !cur.page_token.empty())
        params.set(s.cursor_param, cur.page_token);
      if (s.paging == pagination_style::page)
        params.set(s.page_param,
                   cur.page_token.empty() ? std::to_string(s.first_page) : cur.page_token);
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

  page_result parse_page(const stream_config& s, const stream_cursor& cur,
                         const http_response& resp) override {
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
    out.records.reserve(arr.size());
    for (auto rec : arr) {
      ++count;
      std::string id;
      if (auto v = rec.at_pointer(s.id_pointer); !v.error()) id = scalar_text(v.value_unsafe());
      std::string updated;
      if (!s.updated_pointer.empty())
        if (auto v = rec.at_pointer(s.updated_pointer); !v.error())
          updated = scalar_text(v.value_unsafe());
      invalid_record bad;
      if (id.empty() || id.size() > 300) bad.missing.push_back(s.id_pointer.substr(1));
      for (auto& req : s.required)
        if (!present(rec, req)) bad.missing.push_back(req.substr(1));
      if (!updated.empty() && updated > out.max_updated) out.max_updated = updated;
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
      w.updated_at = std::move(updated);
      if (!s.deleted_pointer.empty())
        if (auto v = rec.at_pointer(s.deleted_pointer); !v.error()) {
          auto t = scalar_text(v.value_unsafe());
          w.deleted = t == "true" || t == "Deleted" || t == "deleted";
        }
      if (!w.deleted) w.body = simdjson::minify(rec);
      out.records.push_back(std::move(w));
    }
    if (!s.total_pointer.empty())
      if (auto v = doc.at_pointer(s.total_pointer); !v.error()) {
        int64_t t;
        if (!v.value_unsafe().get_int64().get(t)) out.total = t;
      }
    if (!s.total_header.empty())
      if (auto t = total_from_header(resp.header(s.total_header)); t >= 0) out.total = t;
    switch (s.paging) {
      case pagination_style::cursor:
        if (auto v = doc.at_pointer(s.cursor_pointer); !v.error())
          out.next_token = scalar_text(v.value_unsafe());
        out.has_more = !out.next_token.empty() && count > 0;
        break;
      case pagination_style::page: {
        int64_t page = cur.page_token.empty() ? s.first_page : std::atoll(cur.page_token.c_str());
        out.has_more = count > 0 && static_cast<int64_t>(count) >= s.page_size;
        if (!s.page_count_pointer.empty())
          if (auto v = doc.at_pointer(s.page_count_pointer); !v.error()) {
            int64_t pc;
            if (!v.value_unsafe().get_int64().get(pc)) out.has_more = page < pc;
          }
        out.next_token = std::to_string(page + 1);
        break;
      }
      case pagination_style::next_url:
        if (auto v = doc.at_pointer(s.next_url_pointer); !v.error())
          out.next_token = scalar_text(v.value_unsafe());
        out.has_more = !out.next_token.empty();
        break;
      case pagination_style::link:
        out.next_token = link_next(resp.header("Link"));
        out.has_more = !out.next_token.empty();
        break;
      case pagination_style::none:
        break;
    }
    if (!out.has_more) out.next_token.clear();
    bool token_is_url =
        s.paging == pagination_style::next_url || s.paging == pagination_style::link;
    if (token_is_url && out.has_more) {
      if (auto refused = refuse_next_url(s, out.next_token); !refused.empty()) {
        page_result bad;
        bad.error = make_error_info(error_category::config, "stream " + s.name + ": " + refused);
        bad.error.permanent = true;
        return bad;
      }
    }
    return out;
  }

 private:
  // The watermark as this stream's request carries it; empty when the pass is not incremental
  // or the watermark is no time an HTTP-date can express (then the request asks for everything,
  // which costs time but misses nothing).
  static std::string since_text(const stream_config& s, const stream_cursor& cur) {
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

  // Why a next-page URL an upstream handed back must not be followed, or "" when it may: only
  // http(s) on the stream's own scheme, host and port, so neither the credentials nor a request
  // for a local file can be steered elsewhere by the upstream's answer.
  std::string refuse_next_url(const stream_config& s, const std::string& token) const {
    std::string configured(stream_url(s).buffer());
    auto resolved = resolve(token);
    auto where = origin_of(resolved);
    auto allowed = origin_of(configured);
    if (where.empty() || allowed.empty() || where != allowed) {
      std::string shown = where.empty() ? resolved.substr(0, 200) : where;
      return "the upstream's next-page link points to " + shown + ", not the configured " +
             (allowed.empty() ? configured : allowed) +
             "; refused so that the credentials go nowhere else";
    }
    return "";
  }

  // A next URL may be relative to the base URL (Sage and OData send absolute ones).
  std::string resolve(const std::string& token) const {
    if (token.rfind("http://", 0) == 0 || token.rfind("https://", 0) == 0 ||
        token.rfind("file:", 0) == 0)
      return token;
    auto base = boost::urls::parse_uri(c_.base_url);
    auto ref = boost::urls::parse_uri_reference(token);
    if (!base || !ref) return token;
    boost::urls::url out;
    if (boost::urls::resolve(*base, *ref, out)) return std::string(out.buffer());
    return token;
  }

  const integration_config& c_;
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
  k.settings = {secret_headers};
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
    return "";
  };
  return k;
}

}  // namespace ledgersync
