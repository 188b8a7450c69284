#include "connectors/quickbooks_connector.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"
#include "connectors/json_state.hpp"
#include "connectors/json_text.hpp"
#include "connectors/push.hpp"
#include "connectors/watermark.hpp"
#include "model/map_quickbooks.hpp"

namespace ledgersync {

namespace {

constexpr const char* qbo_default_base_url = "https://quickbooks.api.intuit.com/v3/company";
constexpr int64_t qbo_default_minor_version = 75;  // the oldest Intuit still serves
constexpr int64_t qbo_max_results = 1000;          // the query endpoint's maximum
// Intuit's rule for any throttle (https://developer.intuit.com/app/developer/qbo/docs/learn/
// limits-and-throttles): "wait 60 seconds before retrying"; QuickBooks sends no Retry-After.
constexpr int qbo_throttle_wait_s = 60;
// Change Data Capture looks 30 days back at most; a day's margin for clocks and slow passes.
constexpr int64_t qbo_cdc_reach_s = 29 * 86400;
// The token that moves a pass from the query endpoint to Change Data Capture.
constexpr const char* cdc_token = "cdc";

// Where a QuickBooks stream stands. `watermark`: the newest LastUpdatedTime of the last
// completed pass; `since`: the watermark this pass queries from ("" in a first or full pass);
// `pass_start`: the server's time when this pass began (the first answer's "time");
// `token`: the page token followed last ("" = STARTPOSITION 1): "<position>", "<position>
// <pass_start>" from the first page, or "cdc <pass_start>"; `cdc`: the pass reads Change Data
// Capture now; `pass_max`: the newest LastUpdatedTime committed in this pass; `synced_from`: the
// server's time when the last completed pass began (what its CDC covered changes from).
struct qbo_state : json_state<qbo_state> {
  std::string watermark, since, pass_start, token, pass_max, synced_from;
  bool cdc = false;

  template <class S, class F>
  static void each_field(S& s, F&& f) {
    f("watermark", s.watermark);
    f("since", s.since);
    f("pass_start", s.pass_start);
    f("token", s.token);
    f("pass_max", s.pass_max);
    f("synced_from", s.synced_from);
    f("cdc", s.cdc);
  }
};

// Percent-encodes everything but RFC 3986's unreserved characters: the query's spaces, quotes,
// '*', '>' and the time's '+' and ':' all arrive as QuickBooks parses them.
std::string url_encode(std::string_view s) {
  return percent_encode(s);
}

// Accounts have no mapper in the model: Classification is the canonical class, AccountType the
// finer type; QuickBooks never deletes an account, it makes it inactive.
model::mapped map_account(std::string_view text) {
  using nlohmann::json;
  return model::map_json_record("gl_account", "quickbooks:Account", text, [&](const json& j) {
    model::record_builder b("gl_account", "quickbooks:Account", text, j);
    b.id(model::text_at(j, "/Id"));
    b.deleted(model::text_at(j, "/status") == "Deleted");
    b.set("code", model::at(j, "/AcctNum"));
    b.set("name", model::at(j, "/Name"));
    std::string cls = model::text_at(j, "/Classification");
    std::transform(cls.begin(), cls.end(), cls.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    b.set_text("class", cls);
    b.set("type", model::at(j, "/AccountType"));
    b.set("currency", model::at(j, "/CurrencyRef/value"));
    if (const json* active = model::at(j, "/Active"); active && active->is_boolean())
      b.set_text("status", active->get<bool>() ? "active" : "archived");
    b.set("updated_at", model::at(j, "/MetaData/LastUpdatedTime"));
    return b.finish();
  });
}

// The QuickBooks entity a stream reads ("Invoice"): its query's FROM and its CDC entity.
std::string entity_of(const stream_config& s) {
  if (s.name == "customers") return "Customer";
  if (s.name == "invoices") return "Invoice";
  if (s.name == "payments") return "Payment";
  return "Account";
}

model::mapped map_record(const std::string& entity, std::string_view text) {
  if (entity == "Customer") return model::map_quickbooks_customer(text);
  if (entity == "Invoice") return model::map_quickbooks_invoice(text);
  if (entity == "Payment") return model::map_quickbooks_payment(text);
  return map_account(text);
}

const simdjson::dom::element* field_ci(simdjson::dom::object o, std::string_view key,
                                       simdjson::dom::element& out) {
  for (auto [k, v] : o) {
    if (k.size() == key.size() && std::equal(k.begin(), k.end(), key.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      out = v;
      return &out;
    }
  }
  return nullptr;
}

// A Fault body ({"Fault":{"Error":[{"Message","Detail","code"}],"type"}}; 401s spell it in lower
// case) as an error: its type decides the category, whatever the HTTP status said.
error_info fault_error(simdjson::dom::element doc, int status, const std::string& what) {
  simdjson::dom::object top;
  simdjson::dom::element fault, e;
  if (doc.get_object().get(top) || !field_ci(top, "Fault", fault)) return {};
  simdjson::dom::object f;
  if (fault.get_object().get(f)) return {};
  std::string type, message, detail, code;
  if (field_ci(f, "type", e)) type = scalar_text(e);
  simdjson::dom::array errors;
  simdjson::dom::object first;
  if (field_ci(f, "Error", e) && !e.get_array().get(errors) && errors.size() > 0 &&
      !errors.at(0).get_object().get(first)) {
    if (field_ci(first, "Message", e)) message = scalar_text(e);
    if (field_ci(first, "Detail", e)) detail = scalar_text(e);
    if (field_ci(first, "code", e)) code = scalar_text(e);
  }
  error_info out;
  bool auth_type =
      type == "AuthenticationFault" || type == "AUTHENTICATION" || type == "AuthorizationFault";
  if (status == 429 || code == "3001" || type == "ThrottleExceeded") {
    out.category = error_category::rate_limited;
    out.retry_after_s = qbo_throttle_wait_s;
  } else if (auth_type || status == 401 || status == 403) {
    out.category = error_category::auth;
    out.specific_hint =
        type == "AuthorizationFault"
            ? "QuickBooks refused access to this company: check settings.realm_id, and that "
              "the app is connected to that company"
            : "QuickBooks refused the access token (it lasts an hour): connect again, or give "
              "a current token with --api-key-file";
  } else if (type == "ValidationFault") {
    out.category = error_category::validation;
    out.permanent = true;  // the same request is refused the same way again
  } else {
    out.category = error_category::upstream;
  }
  out.message = what + ": HTTP " + std::to_string(status) + " — QuickBooks " +
                (type.empty() ? "Fault" : type) + (code.empty() ? "" : " " + code) +
                (message.empty() ? "" : ": " + message) +
                (detail.empty() || detail == message ? "" : " (" + detail + ")");
  return out;
}

int64_t number_of(const std::string& text, int64_t fallback) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && p == text.data() + text.size() && n > 0 ? n : fallback;
}

class quickbooks_connector final : public connector {
 public:
  explicit quickbooks_connector(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : nlohmann::json::object();
    realm_ = settings.value("realm_id", "");
    minor_ = settings.value("minor_version", qbo_default_minor_version);
    max_results_ = settings.value("max_results", qbo_max_results);
  }

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = qbo_state::parse(state);
    st.since = full ? "" : st.watermark;
    st.pass_start.clear();
    st.token.clear();
    st.pass_max.clear();
    st.cdc = false;
    return st.dump();
  }

  // The watermark moves to the newest change the query returned. Both the query (>=) and CDC
  // include their starting instant, so the newest record is read again next time; its content
  // hash keeps it from being written twice.
  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = qbo_state::parse(state);
    if (!st.cdc && later(page.max_updated, st.pass_max, watermark_order::timestamp))
      st.pass_max = page.max_updated;
    if (page.has_more) {
      st.token = page.next_token;
      st.cdc = st.token.rfind(cdc_token, 0) == 0;
      if (auto space = st.token.find(' '); space != std::string::npos)
        st.pass_start = st.token.substr(space + 1);
      return st.dump();
    }
    if (later(st.pass_max, st.watermark, watermark_order::timestamp)) st.watermark = st.pass_max;
    if (!st.pass_start.empty()) st.synced_from = st.pass_start;
    st.since.clear();
    st.pass_start.clear();
    st.token.clear();
    st.pass_max.clear();
    st.cdc = false;
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    return qbo_state::parse(state).token;
  }

  http_request page_request(const stream_config& s, const stream_cursor& c) const override {
    auto st = qbo_state::parse(c.state);
    auto r = base_request();
    auto entity = entity_of(s);
    if (st.cdc) {
      r.url = company() + "/cdc?entities=" + entity + "&changedSince=" + url_encode(cdc_since(st)) +
              "&minorversion=" + std::to_string(minor_);
      return r;
    }
    std::string q = "SELECT * FROM " + entity;
    if (!st.since.empty()) q += " WHERE MetaData.LastUpdatedTime >= '" + st.since + "'";
    q += " ORDERBY MetaData.LastUpdatedTime STARTPOSITION " + std::to_string(position_of(st)) +
         " MAXRESULTS " + std::to_string(max_results_);
    r.url = company() + "/query?query=" + url_encode(q) + "&minorversion=" + std::to_string(minor_);
    return r;
  }

  http_request probe_request(const stream_config& s) const override {
    auto r = base_request();
    r.url = company() + "/query?query=" + url_encode("SELECT COUNT(*) FROM " + entity_of(s)) +
            "&minorversion=" + std::to_string(minor_);
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor& c,
                         const http_response& resp) override {
    auto st = qbo_state::parse(c.state);
    page_result out;
    std::string what = "stream " + s.name;
    simdjson::dom::element doc;
    bool parsed = resp.status != 0 && !parser_.parse(resp.body).get(doc);
    // A Fault may come inside an HTTP 200: the body decides before the status does.
    if (parsed) {
      if (auto fault = fault_error(doc, resp.status, what); !fault.ok()) {
        if (int ra = retry_after_of(resp); ra >= 0) fault.retry_after_s = ra;
        out.error = std::move(fault);
        return out;
      }
    }
    out.error = classify_response(resp, what);
    // A 429 without a Fault body (a gateway's, or one cut short) is a throttle all the same: not
    // the retry policy's sub-second backoff, which would only be throttled again.
    if (out.error.category == error_category::rate_limited && out.error.retry_after_s < 0)
      out.error.retry_after_s = qbo_throttle_wait_s;
    if (!out.error.ok()) return out;
    auto entity = entity_of(s);
    // A default dom::array may not be iterated: `found` says whether `items` holds one.
    simdjson::dom::array items;
    bool listed = false, found = false;
    if (parsed && st.cdc) {
      // {"CDCResponse":[{"QueryResponse":[{"Invoice":[…]}]}]}
      simdjson::dom::array groups;
      if (!doc.at_pointer("/CDCResponse/0/QueryResponse").get_array().get(groups)) {
        listed = true;
        for (auto g : groups)
          if (!g[entity].get_array().get(items)) {
            found = true;
            break;
          }
      }
    } else if (parsed) {
      simdjson::dom::object qr;
      if (!doc["QueryResponse"].get_object().get(qr)) {
        listed = true;
        found = !qr[entity].get_array().get(items);  // an empty answer has no array
      }
    }
    if (!listed) {
      out.error = make_error_info(error_category::upstream,
                                  what + (st.cdc ? ": the answer is not a QuickBooks CDC response"
                                                 : ": the answer is not a QuickBooks query "
                                                   "response"));
      return out;
    }
    size_t count = 0;
    if (found) {
      for (auto item : items) {
        ++count;
        auto text = simdjson::minify(item);
        auto m = map_record(entity, text);
        if (!m.problems.empty()) {
          invalid_record bad;
          bad.id = m.record.id;
          if (bad.id.empty())
            if (auto v = item["Id"]; !v.error()) bad.id = scalar_text(v.value_unsafe());
          for (auto& p : m.problems) bad.missing.push_back(p.field);
          bad.body = text;
          out.invalid.push_back(std::move(bad));
          continue;
        }
        record_write w;
        w.stream = s.name;
        w.id = m.record.id;
        w.entity = m.record.entity;
        w.deleted = m.record.deleted;
        if (auto v = item.at_pointer("/MetaData/LastUpdatedTime"); !v.error())
          w.updated_at = scalar_text(v.value_unsafe());
        if (!w.deleted) w.body = model::to_json_text(m.record);
        if (!w.deleted && later(w.updated_at, out.max_updated, watermark_order::timestamp))
          out.max_updated = w.updated_at;
        w.hash_body();  // here, off the writer's thread
        out.records.push_back(std::move(w));
      }
    }
    if (st.cdc) return out;  // CDC answers in one page
    std::string server_time;
    if (auto v = doc["time"]; !v.error()) server_time = scalar_text(v.value_unsafe());
    // The first page's time is when the pass began.
    std::string pass_start = st.token.empty() ? server_time : st.pass_start;
    if (static_cast<int64_t>(count) >= max_results_) {
      out.has_more = true;
      out.next_token = std::to_string(position_of(st) + static_cast<int64_t>(count));
      if (st.token.empty() && !pass_start.empty()) out.next_token += " " + pass_start;
      return out;
    }
    // The query is read: the pass ends with Change Data Capture, for deletions and for what
    // changed while it paged (a record changed mid-pass moves in LastUpdatedTime order, and the
    // one it displaced would be skipped). A stream not synced for 30 days cannot ask: a full
    // pass then finds what was deleted.
    qbo_state next = st;
    next.pass_start = pass_start;
    auto since = cdc_since(next);
    auto now = parse_instant(server_time);
    auto from = parse_instant(since);
    if (from && (!now || now->seconds - from->seconds <= qbo_cdc_reach_s)) {
      out.has_more = true;
      out.next_token = std::string(cdc_token) + " " + pass_start;
    }
    return out;
  }

 private:
  static int64_t position_of(const qbo_state& st) {
    return number_of(st.token.substr(0, st.token.find(' ')), 1);
  }

  // What CDC reads from: in a first or full pass, what changed since it began; in a later one,
  // since the last pass began (nothing deleted before then is still unseen) — not since the
  // newest record, which in a quiet company may be older than CDC's 30 days.
  static std::string cdc_since(const qbo_state& st) {
    if (st.since.empty()) return st.pass_start;
    return st.synced_from.empty() ? st.since : st.synced_from;
  }

  std::string company() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b + "/" + realm_;
  }

  http_request base_request() const { return vendor_base_request(c_, {}); }

  const integration_config& c_;
  std::string realm_;
  int64_t minor_ = qbo_default_minor_version;
  int64_t max_results_ = qbo_max_results;
  simdjson::dom::parser parser_;
};

stream_config qbo_stream(const char* name, const char* entity, const char* qbo_entity) {
  stream_config s;
  s.name = name;
  s.entity = entity;
  s.path = "/query";
  s.paging = pagination_style::offset;
  s.records_pointer = std::string("/QueryResponse/") + qbo_entity;
  s.id_pointer = "/Id";
  s.updated_pointer = "/MetaData/LastUpdatedTime";
  s.offset_param = "STARTPOSITION";
  s.first_offset = 1;
  s.page_size_param = "MAXRESULTS";
  s.page_size = qbo_max_results;
  s.total_pointer.clear();
  return s;
}

std::vector<stream_config> qbo_streams() {
  return {qbo_stream("customers", "customer", "Customer"),
          qbo_stream("invoices", "invoice", "Invoice"),
          qbo_stream("payments", "payment", "Payment"),
          qbo_stream("accounts", "gl_account", "Account")};
}

}  // namespace

connector_kind quickbooks_connector_kind() {
  connector_kind k;
  k.name = "quickbooks";
  k.label = "QuickBooks Online";
  k.default_base_url = qbo_default_base_url;
  // 500 requests a minute per company; bursts of at most 10 a second per company and app.
  // 500 requests a minute per company, evenly spaced (Intuit counts in windows).
  k.default_rate = [](const nlohmann::json&) {
    return request_rate{500, std::chrono::minutes(1), 1};
  };
  k.description =
      "QuickBooks Online with an OAuth access token: customers, invoices, payments and accounts "
      "of one company (realm), read with the query endpoint; deletions from Change Data Capture.";
  setting_spec realm;
  realm.key = "realm_id";
  realm.required = true;
  realm.help = "the company (realm id) to read: the digits QuickBooks names the company by";
  setting_spec minor;
  minor.key = "minor_version";
  minor.type = setting_type::integer;
  minor.default_value = qbo_default_minor_version;
  minor.min = 1;
  minor.max = 999;
  minor.help = "the minorversion every request pins (Intuit serves 75 and later)";
  setting_spec results;
  results.key = "max_results";
  results.type = setting_type::integer;
  results.default_value = qbo_max_results;
  results.min = 1;
  results.max = qbo_max_results;
  results.help = "records per page (MAXRESULTS), 1 to 1000";
  k.settings = {realm, minor, results};
  for (auto& s : qbo_streams())
    k.streams.push_back(
        {s.name, s.entity, "SELECT * FROM " + entity_of(s) + ", deletions from /cdc"});
  k.default_streams = qbo_streams;
  k.make_writer = make_quickbooks_writer;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<quickbooks_connector>(c);
  };
  k.check = [](const nlohmann::json& settings) -> std::string {
    auto realm = settings.value("realm_id", "");
    if (realm.empty() || realm.size() > 32 ||
        !std::all_of(realm.begin(), realm.end(), [](char ch) { return isdigit(ch); }))
      return "settings.realm_id must be the company's realm id (digits), got " +
             nlohmann::json(realm.substr(0, 40)).dump();
    return "";
  };
  // Sign-in (`ledgersync connect NAME`): Intuit's OAuth 2.0 server. Without a client_id the
  // api_key is the access token as given.
  append_oauth_settings(k.settings);
  oauth_flow flow;
  flow.authorize_url = "https://appcenter.intuit.com/connect/oauth2";
  flow.token_url = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer";
  flow.revoke_url = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke";
  flow.scopes = "com.intuit.quickbooks.accounting";
  k.oauth = flow;
  return k;
}

}  // namespace ledgersync
