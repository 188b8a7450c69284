#include "connectors/xero_connector.hpp"

#include <simdjson.h>

#include <algorithm>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"
#include "connectors/json_state.hpp"
#include "connectors/json_text.hpp"
#include "connectors/paging.hpp"
#include "connectors/push.hpp"
#include "connectors/watermark.hpp"
#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/map_xero.hpp"

namespace ledgersync {

namespace {

// Where a Xero stream stands. `since`: the newest UpdatedDateUTC (canonical instant) committed
// by a finished pass, "" before the first. `filter`: what this pass sends as If-Modified-Since
// ("" = everything), fixed for the pass so its pages agree. `pass_max`: the newest UpdatedDateUTC
// this pass has committed; it becomes `since` only when the pass ends, so a pass cut short
// leaves the watermark where every earlier change is known to be stored.
struct xero_state : json_state<xero_state> {
  std::string since, filter, page_token, pass_max;

  template <class S, class F>
  static void each_field(S& s, F&& f) {
    f("since", s.since);
    f("filter", s.filter);
    f("page_token", s.page_token);
    f("pass_max", s.pass_max);
  }
};

using mapper = model::mapped (*)(std::string_view, const model::xero_context&);

struct xero_stream_def {
  const char* name;
  const char* entity;
  const char* collection;  // the path under api.xro/2.0 and the body's array
  mapper map;
  bool paged;
};

const xero_stream_def kStreams[] = {
    {"invoices", "invoice", "Invoices", model::map_xero_invoice, true},
    {"contacts", "customer", "Contacts", model::map_xero_contact, true},
    {"payments", "payment", "Payments", model::map_xero_payment, true},
    {"bank_transactions", "bank_transaction", "BankTransactions", model::map_xero_bank_transaction,
     true},
    {"accounts", "gl_account", "Accounts", model::map_xero_account, false},
};

const xero_stream_def* def_of(const stream_config& s) {
  auto collection = s.path.substr(s.path.rfind('/') + 1);
  for (auto& d : kStreams)
    if (collection == d.collection) return &d;
  return nullptr;
}

// Xero's If-Modified-Since is a UTC time to the second without a zone ("2026-11-01T00:00:00");
// the canonical instant cut to its seconds, so a change within the same second is read again
// rather than missed (its unchanged content hash then writes nothing).
std::string if_modified_since(const std::string& canonical) {
  return canonical.size() >= 19 ? canonical.substr(0, 19) : canonical;
}

// A string setting, "" when absent or null (a schema default of null is no value).
std::string text_setting(const nlohmann::json& settings, const char* key) {
  if (!settings.is_object() || !settings.contains(key) || !settings[key].is_string()) return "";
  return settings[key].get<std::string>();
}

// "api.xero.com" of "https://api.xero.com/api.xro/2.0" (the whole URL when it has no origin).
std::string host_of(const std::string& url) {
  auto origin = origin_of(url);
  auto start = origin.find("://");
  if (start == std::string::npos) return url;
  start += 3;
  return origin.substr(start, origin.rfind(':') - start);
}

int64_t header_number(const http_response& r, std::string_view name) {
  auto v = r.header(name);
  if (v.empty() || v.size() > 12) return -1;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

class xero_connector final : public connector {
 public:
  explicit xero_connector(const integration_config& c) : c_(c) {
    tenant_ = text_setting(c.settings, "tenant_id");
    if (c.settings.is_object() && c.settings.contains("page_size") &&
        c.settings["page_size"].is_number_integer())
      page_size_ = c.settings["page_size"].get<int64_t>();
    ctx_.base_currency = text_setting(c.settings, "base_currency");
  }

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = xero_state::parse(state);
    st.filter = full ? "" : st.since;
    st.page_token.clear();
    st.pass_max.clear();
    return st.dump();
  }

  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = xero_state::parse(state);
    if (later(page.max_updated, st.pass_max, watermark_order::timestamp))
      st.pass_max = page.max_updated;
    if (page.has_more) {
      st.page_token = page.next_token;
      return st.dump();
    }
    if (later(st.pass_max, st.since, watermark_order::timestamp)) st.since = st.pass_max;
    st.filter.clear();
    st.page_token.clear();
    st.pass_max.clear();
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    return xero_state::parse(state).page_token;
  }

  http_request page_request(const stream_config& s, const stream_cursor& c) const override {
    auto st = xero_state::parse(c.state);
    auto r = base_request();
    auto* d = def_of(s);
    boost::urls::url u(base() + s.path);
    if (d && d->paged) {
      // Oldest change first, so a record changed during the pass moves to a later page rather
      // than out of the pages still to come.
      u.params().set("order", "UpdatedDateUTC ASC");
      if (std::string_view(d->collection) == "Contacts") u.params().set("includeArchived", "true");
      u.params().set("pageSize", std::to_string(page_size_));
      paging()->apply(st.page_token, u);
    }
    if (!st.filter.empty())
      r.headers.emplace_back("If-Modified-Since", if_modified_since(st.filter));
    r.url = std::string(u.buffer());
    return r;
  }

  // The organisation itself: proves the token and the tenant id in one cheap call.
  http_request probe_request(const stream_config&) const override {
    auto r = base_request();
    r.url = base() + "/Organisation";
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  error_info probe_error(const stream_config&, const http_response& r) const override {
    std::string what = "test of Xero organisation " + tenant_;
    if (auto e = explain_xero_refusal(r, what); !e.ok()) return e;
    if (auto limits = read_xero_limits(r, what); !limits.refused.ok()) return limits.refused;
    return classify_response(r, what);
  }

  page_result parse_page(const stream_config& s, const stream_cursor& c,
                         const http_response& resp) override {
    auto st = xero_state::parse(c.state);
    page_result out;
    std::string what = "stream " + s.name;
    auto* d = def_of(s);
    if (!d) {
      out.error = make_error_info(error_category::config,
                                  what + ": Xero has no stream at " + model::quote_text(s.path));
      return out;
    }
    if (c_.api_key.empty()) {
      out.error = make_error_info(
          error_category::auth,
          what + ": Xero needs an access token (give it with --api-key-file, or connect)");
      return out;
    }
    auto limits = read_xero_limits(resp, what);
    if (!limits.refused.ok()) {
      out.error = limits.refused;
      out.shared_pause_ms = limits.shared_pause_ms;
      return out;
    }
    if (auto e = explain_xero_refusal(resp, what); !e.ok()) {
      out.error = e;
      return out;
    }
    out.error = classify_response(resp, what);
    if (!out.error.ok()) return out;
    out.pause_ms = limits.pause_ms;
    out.shared_pause_ms = limits.shared_pause_ms;
    out.stop_after = limits.day_spent;
    simdjson::dom::element doc;
    simdjson::dom::array items;
    if (parser_.parse(resp.body).get(doc) || doc[d->collection].get_array().get(items)) {
      out.error = make_error_info(error_category::upstream,
                                  what + ": the answer has no " + d->collection + " list");
      return out;
    }
    size_t count = 0;
    std::string newest;
    for (auto item : items) {
      ++count;
      std::string updated;
      if (auto v = item["UpdatedDateUTC"].get_string(); !v.error())
        if (auto t = model::normalize_datetime(v.value_unsafe()); t.ok()) updated = *t;
      if (later(updated, newest, watermark_order::timestamp)) newest = updated;
      auto text = simdjson::minify(item);
      auto m = d->map(text, ctx_);
      if (!m.problems.empty()) {
        invalid_record bad;
        bad.id = m.record.id;
        for (auto& p : m.problems) bad.missing.push_back(p.field);
        bad.body = text;
        out.invalid.push_back(std::move(bad));
        continue;
      }
      record_write w;
      w.stream = s.name;
      w.id = m.record.id;
      w.entity = m.record.entity;
      w.updated_at = updated;
      w.deleted = m.record.deleted;
      if (!w.deleted) w.body = model::to_json_text(m.record);
      w.hash_body();  // here, off the writer's thread
      out.records.push_back(std::move(w));
    }
    out.max_updated = newest;
    if (auto v = doc["pagination"]["itemCount"].get_int64(); !v.error())
      out.total = v.value_unsafe();
    if (d->paged) {
      auto next = paging()->next(page_view{doc, resp, count, ""}, st.page_token, {});
      out.has_more = next.has_more;
      out.next_token = std::move(next.token);
    }
    return out;
  }

 private:
  std::unique_ptr<paging_strategy> paging() const {
    return page_number_paging("page", 1, page_size_, "/pagination/pageCount");
  }

  std::string base() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  }

  http_request base_request() const {
    return vendor_base_request(c_, {{"xero-tenant-id", tenant_}});
  }

  const integration_config& c_;
  std::string tenant_;
  int64_t page_size_ = 100;
  model::xero_context ctx_;
  simdjson::dom::parser parser_;
};

stream_config xero_stream(const xero_stream_def& d) {
  stream_config s;
  s.name = d.name;
  s.entity = d.entity;
  s.path = std::string("/") + d.collection;
  s.paging = d.paged ? pagination_style::page : pagination_style::none;
  s.page_size = 100;
  return s;
}

std::vector<stream_config> xero_streams() {
  std::vector<stream_config> out;
  for (auto& d : kStreams) out.push_back(xero_stream(d));
  return out;
}

}  // namespace

// Xero's limits (https://developer.xero.com/documentation/guides/oauth2/limits/ and
// https://developer.xero.com/faq/limits): per organisation and app 5 calls at once, 60 a minute
// and 5,000 in a rolling 24 hours; per app 10,000 a minute across its organisations. Every
// answer carries X-MinLimit-Remaining, X-DayLimit-Remaining and X-AppMinLimit-Remaining, the
// calls left under each; a 429 names the limit hit in X-Rate-Limit-Problem (minute, day,
// appminute, or one not listed) and gives Retry-After in seconds for the minute and day limits.
xero_limits read_xero_limits(const http_response& r, const std::string& what) {
  xero_limits out;
  if (r.status == 429) {
    std::string problem(r.header("X-Rate-Limit-Problem"));
    auto e = make_error_info(error_category::rate_limited,
                             what + ": Xero's " + (problem.empty() ? "rate" : problem) +
                                 " limit was reached (HTTP 429)");
    e.retry_after_s = retry_after_of(r);
    // The daily limit resets hours later; without its time, an hour keeps the next attempt
    // from spending calls on refusals while not losing a day.
    if (problem == "day" && e.retry_after_s < 0) e.retry_after_s = 3600;
    if (problem == "day")
      e.specific_hint =
          "Xero's daily call limit for this organisation is used up: syncing resumes when it "
          "resets; fewer streams or a less frequent schedule use fewer calls";
    // The app's minute is spent for every organisation the app reads, not only this one: the
    // shared budget holds them all for as long as Xero asks (its window is a minute).
    if (problem == "appminute") {
      out.shared_pause_ms = e.retry_after_s >= 0 ? int64_t{e.retry_after_s} * 1000 : 60'000;
      e.specific_hint =
          "Xero's per-app limit (10,000 calls a minute across every organisation this app "
          "reads) was reached: every integration of the app waits, then goes on";
    }
    out.refused = std::move(e);
    return out;
  }
  // A count at zero means the next call would be refused; one or two left is as good as none
  // once another integration of the same app or a concurrent request takes them.
  constexpr int64_t floor = 1;
  auto spent = [&](std::string_view h) {
    auto n = header_number(r, h);
    return n >= 0 && n <= floor;
  };
  if (spent("X-MinLimit-Remaining")) out.pause_ms = 60'000;
  if (spent("X-AppMinLimit-Remaining")) out.shared_pause_ms = 60'000;
  // The day's last call is spent: the next would be refused. When the rolling window frees one
  // depends on when the day's earliest calls were made, which no header says; an hour, as for
  // a day-limit 429 without Retry-After, after which the next call either goes through or is
  // refused with the exact Retry-After.
  if (header_number(r, "X-DayLimit-Remaining") == 0) {
    auto e = make_error_info(error_category::rate_limited,
                             what +
                                 ": Xero's daily limit of 5,000 calls for this organisation is "
                                 "spent (X-DayLimit-Remaining: 0); what was fetched is kept");
    e.retry_after_s = 3600;
    e.specific_hint =
        "Xero counts calls over a rolling 24 hours: syncs resume when Xero's rolling day frees "
        "calls, tried again in an hour (Xero then names the exact time if it still refuses); "
        "fewer streams or a less frequent schedule use fewer calls";
    out.day_spent = std::move(e);
  }
  return out;
}

error_info explain_xero_refusal(const http_response& r, const std::string& what) {
  if (r.status == 401) {
    auto e = classify_response(r, what);
    e.specific_hint =
        "Xero refused the access token: it may have expired (Xero's last 30 minutes) or been "
        "revoked — connect again or reconfigure with a new token";
    return e;
  }
  if (r.status == 403) {
    auto e = classify_response(r, what);
    e.specific_hint =
        "Xero refused access to this organisation: settings.tenant_id must be the tenant id of "
        "an organisation the token was granted (GET https://api.xero.com/connections lists "
        "them); reconfigure the tenant id or connect again to that organisation";
    e.fix_settings = {"settings.tenant_id"};
    return e;
  }
  return {};
}

connector_kind xero_connector_kind() {
  connector_kind k;
  k.name = "xero";
  k.label = "Xero";
  k.description =
      "Xero Accounting (api.xro/2.0) for one organisation: invoices, contacts, payments, bank "
      "transactions and accounts; later syncs read only what changed (If-Modified-Since).";
  k.default_base_url = "https://api.xero.com/api.xro/2.0";
  setting_spec tenant;
  tenant.key = "tenant_id";
  tenant.required = true;
  tenant.help =
      "the organisation's Xero tenant id, sent as the xero-tenant-id header (GET "
      "https://api.xero.com/connections lists the ones a token may read)";
  setting_spec page_size;
  page_size.key = "page_size";
  page_size.type = setting_type::integer;
  page_size.default_value = 100;
  page_size.min = 1;
  page_size.max = 1000;
  page_size.help = "records per page (Xero's pageSize, 1 to 1000)";
  setting_spec base_currency;
  base_currency.key = "base_currency";
  base_currency.help =
      "the organisation's base currency (ISO 4217), for payments that name none (of credit "
      "notes, overpayments and prepayments)";
  k.settings = {tenant, page_size, base_currency};
  for (auto& d : kStreams)
    k.streams.push_back(
        {d.name, d.entity, std::string("/") + d.collection + (d.paged ? "" : ", not paged")});
  k.default_streams = xero_streams;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<xero_connector>(c);
  };
  k.make_writer = make_xero_writer;
  // 60 calls a minute per organisation, evenly spaced: Xero's window never sees a 61st.
  k.default_rate = [](const nlohmann::json&) {
    return request_rate{60, std::chrono::minutes(1), 1};
  };
  // 10,000 a minute per app. The app is known by its OAuth client id once sign-in sets one;
  // until then every integration against the same Xero host counts as one app.
  k.shared = [](const integration_config& c) -> std::optional<shared_limit> {
    auto id = text_setting(c.settings, "client_id");
    std::string key = "xero:" + (id.empty() ? host_of(c.base_url) : "client:" + id);
    return shared_limit{key, request_rate{10'000, std::chrono::minutes(1), 1}};
  };
  k.check = [](const nlohmann::json& settings) -> std::string {
    auto tenant = text_setting(settings, "tenant_id");
    // It becomes a header value: a line break would let it add headers of its own.
    if (std::any_of(tenant.begin(), tenant.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; }))
      return "settings.tenant_id must be one line of text (Xero's tenant id, a UUID)";
    if (auto cur = text_setting(settings, "base_currency");
        !cur.empty() && !model::find_currency(cur))
      return "settings.base_currency must be an ISO 4217 code like GBP, got " +
             model::quote_text(cur, 20);
    return "";
  };
  // Sign-in (`ledgersync connect NAME`): Xero's identity server; a custom connection signs in
  // by client credentials. Without a client_id the api_key is the access token as given.
  append_oauth_settings(k.settings);
  oauth_flow flow;
  flow.authorize_url = "https://login.xero.com/identity/connect/authorize";
  flow.token_url = "https://identity.xero.com/connect/token";
  flow.revoke_url = "https://identity.xero.com/connect/revocation";
  // Pushes write contacts, invoices and payments: the write scopes (which include reading).
  flow.scopes =
      "offline_access accounting.transactions accounting.contacts accounting.settings.read";
  flow.client_credentials = true;
  k.oauth = flow;
  return k;
}

}  // namespace ledgersync
