#include "connectors/sage_connector.hpp"

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
#include "model/map_sage.hpp"

namespace ledgersync {

namespace {

constexpr const char* sage_default_base_url = "https://api.accounting.sage.com/v3.1";
constexpr int64_t sage_default_page = 200;  // Sage's maximum: fewest calls against its quota

// The token that moves an incremental pass from its changes to its deletions. Never a URL, so
// it cannot collide with a `$next` link in the paging guard's memory.
constexpr const char* deletions_token = "deleted_since";

// Where a Sage stream stands. `watermark`: the newest updated_at of the last completed pass
// (what the next incremental pass asks from); `since`: the watermark this pass asks from (""
// in a first or full pass, which lists everything and has no deletions to ask for);
// `deletions`: this pass has moved on to deleted_since; `page_token`: the `$next` link to
// fetch; `pass_max`: the newest updated_at committed in this pass.
struct sage_state : json_state<sage_state> {
  std::string watermark, since, page_token, pass_max;
  bool deletions = false;

  template <class S, class F>
  static void each_field(S& s, F&& f) {
    f("watermark", s.watermark);
    f("since", s.since);
    f("page_token", s.page_token);
    f("pass_max", s.pass_max);
    f("deletions", s.deletions);
  }
};

std::string strip_slashes(std::string b) {
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

// Bank accounts have no mapper of their own in the model: in the chart of accounts they are
// asset accounts of type BANK, which is how they are stored.
model::mapped map_bank_account(std::string_view text) {
  using nlohmann::json;
  return model::map_json_record("gl_account", "sage:bank_account", text, [&](const json& j) {
    model::record_builder b("gl_account", "sage:bank_account", text, j);
    b.id(model::text_at(j, "/id"));
    b.set("code", model::at(j, "/nominal_code"));
    const json* name = model::at(j, "/bank_account_details/account_name");
    b.set("name", name ? name : model::at(j, "/displayed_as"));
    b.set_text("class", "asset");
    b.set_text("type", "BANK");
    b.set("currency", model::at(j, "/currency/id"));
    b.set("updated_at", model::at(j, "/updated_at"));
    return b.finish();
  });
}

model::mapped map_record(const stream_config& s, std::string_view text) {
  if (s.name == "contacts") return model::map_sage_contact(text);
  if (s.name == "sales_invoices") return model::map_sage_sales_invoice(text);
  if (s.name == "contact_payments") return model::map_sage_contact_payment(text);
  if (s.name == "bank_accounts") return map_bank_account(text);
  return model::map_sage_ledger_account(text);
}

// Sage's error body is an array of {"$severity","$dataCode","$message","$source"}.
std::string sage_data_code(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_array() || j.empty() || !j[0].is_object()) return "";
  auto code = j[0].find("$dataCode");
  if (code == j[0].end() || !code->is_string()) return "";
  // Upstream text that reaches a hint: only a code's shape ("AuthorizationFailure").
  auto text = code->get<std::string>();
  bool shaped = text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char ch) {
                  return isalnum(static_cast<unsigned char>(ch)) || ch == '_';
                });
  return shaped ? text : "";
}

class sage_connector final : public connector {
 public:
  explicit sage_connector(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : nlohmann::json::object();
    business_ = settings.value("business_id", "");
    per_page_ = settings.value("items_per_page", sage_default_page);
  }

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = sage_state::parse(state);
    st.since = full ? "" : st.watermark;
    st.deletions = false;
    st.page_token.clear();
    st.pass_max.clear();
    return st.dump();
  }

  // The watermark moves to the newest change seen, never to a deletion's time: a change made
  // while this pass read deletions may be older than them, and would be skipped. Both filters
  // are inclusive, so the newest record is read again next time; its content hash keeps it
  // from being written twice.
  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = sage_state::parse(state);
    if (!st.deletions && later(page.max_updated, st.pass_max, watermark_order::timestamp))
      st.pass_max = page.max_updated;
    if (page.has_more) {
      if (page.next_token == deletions_token) {
        st.deletions = true;
        st.page_token.clear();
      } else {
        st.page_token = page.next_token;
      }
      return st.dump();
    }
    if (later(st.pass_max, st.watermark, watermark_order::timestamp)) st.watermark = st.pass_max;
    st.since.clear();
    st.deletions = false;
    st.page_token.clear();
    st.pass_max.clear();
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    return sage_state::parse(state).page_token;
  }

  http_request page_request(const stream_config& s, const stream_cursor& c) const override {
    auto st = sage_state::parse(c.state);
    auto r = base_request();
    if (!st.page_token.empty()) {
      r.url = resolve(st.page_token);
      return r;
    }
    boost::urls::url u(base() + s.path);
    auto params = u.params();
    params.append({"items_per_page", std::to_string(per_page_)});
    if (st.deletions) {
      params.append({"deleted_since", st.since});
    } else {
      params.append({"attributes", "all"});
      if (!st.since.empty()) params.append({"updated_or_created_since", st.since});
    }
    r.url = std::string(u.buffer());
    return r;
  }

  http_request probe_request(const stream_config& s) const override {
    auto r = base_request();
    r.url = base() + s.path + "?items_per_page=1";
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor& c,
                         const http_response& resp) override {
    auto st = sage_state::parse(c.state);
    page_result out;
    std::string what = "stream " + s.name;
    out.error = classify_response(resp, what);
    if (!out.error.ok()) {
      explain(out.error, resp);
      return out;
    }
    simdjson::dom::element doc;
    simdjson::dom::array items;
    if (parser_.parse(resp.body).get(doc) || doc["$items"].get_array().get(items)) {
      out.error = make_error_info(error_category::upstream,
                                  what + ": the answer is not a Sage list (no $items)");
      return out;
    }
    for (auto item : items) {
      auto text = simdjson::minify(item);
      std::string id;
      if (auto v = item["id"]; !v.error()) id = scalar_text(v.value_unsafe());
      auto m = st.deletions ? model::map_sage_deleted(text, s.entity) : map_record(s, text);
      if (!m.problems.empty()) {
        invalid_record bad;
        bad.id = m.record.id.empty() ? id : m.record.id;
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
      if (auto v = item[st.deletions ? "deleted_at" : "updated_at"]; !v.error())
        w.updated_at = scalar_text(v.value_unsafe());
      if (!w.deleted) {
        w.body = model::to_json_text(m.record);
        if (later(w.updated_at, out.max_updated, watermark_order::timestamp))
          out.max_updated = w.updated_at;
      }
      w.hash_body();  // here, off the writer's thread
      out.records.push_back(std::move(w));
    }
    if (!st.deletions) {
      if (auto t = doc["$total"].get_int64(); !t.error()) out.total = t.value_unsafe();
    }
    std::string next;
    if (auto v = doc["$next"]; !v.error()) next = scalar_text(v.value_unsafe());
    if (!next.empty()) {
      auto refused = refuse_next_url({c_.base_url, c_.base_url}, resolve(next));
      if (!refused.empty()) {
        out.error = make_error_info(error_category::config, what + ": " + refused);
        out.error.permanent = true;
        return out;
      }
      out.has_more = true;
      out.next_token = std::move(next);
    } else if (!st.deletions && !st.since.empty()) {
      // The changes are read: the same pass goes on with what was deleted since.
      out.has_more = true;
      out.next_token = deletions_token;
    }
    return out;
  }

 private:
  std::string base() const { return strip_slashes(c_.base_url); }

  // Sage's `$next` is a path from the API's version root ("/contacts?page=2&…"), not from the
  // host: it is appended to the base URL. An absolute link stays as it is (and is checked).
  std::string resolve(const std::string& link) const {
    if (!link.empty() && link.front() == '/' && link.rfind("//", 0) != 0) return base() + link;
    return link;
  }

  // Sage's own words for what to do, where its data code says more than the HTTP status.
  void explain(error_info& e, const http_response& resp) const {
    auto code = sage_data_code(resp.body);
    if (e.category == error_category::auth) {
      e.specific_hint =
          "Sage refused the access token" + (code.empty() ? "" : " (" + code + ")") +
          ": its access tokens last 5 minutes — connect again, or give a current token with "
          "--api-key-file";
    } else if (resp.status == 404 && code == "RecordNotFound" &&
               resp.body.find("X-Business") != std::string::npos) {
      e.specific_hint = "Sage knows no business " + model::quote_text(business_, 40) +
                        " for this token: check settings.business_id (GET /businesses lists "
                        "the ones the user can reach)";
      e.permanent = true;
    }
  }

  http_request base_request() const {
    // Without X-Business Sage silently answers for the user's lead business.
    return vendor_base_request(c_, {{"X-Business", business_}});
  }

  const integration_config& c_;
  std::string business_;
  int64_t per_page_ = sage_default_page;
  simdjson::dom::parser parser_;
};

stream_config sage_stream(const char* name, const char* entity) {
  stream_config s;
  s.name = name;
  s.entity = entity;
  s.path = std::string("/") + name;
  s.paging = pagination_style::next_url;
  s.records_pointer = "/$items";
  s.next_url_pointer = "/$next";
  s.total_pointer = "/$total";
  s.incremental_param = "updated_or_created_since";
  s.page_size_param = "items_per_page";
  s.page_size = sage_default_page;
  return s;
}

std::vector<stream_config> sage_streams() {
  return {sage_stream("contacts", "customer"), sage_stream("sales_invoices", "invoice"),
          sage_stream("contact_payments", "payment"), sage_stream("bank_accounts", "gl_account"),
          sage_stream("ledger_accounts", "gl_account")};
}

}  // namespace

connector_kind sage_connector_kind() {
  connector_kind k;
  k.name = "sage";
  k.label = "Sage Accounting";
  k.default_base_url = sage_default_base_url;
  k.description =
      "Sage Business Cloud Accounting (API v3.1) with an OAuth access token: contacts, sales "
      "invoices, contact payments, bank accounts and ledger accounts of one business; later "
      "syncs read what changed and what was deleted since the last one.";
  setting_spec business;
  business.key = "business_id";
  business.required = true;
  business.help =
      "the business to read, sent as X-Business on every request (GET /businesses lists them; "
      "without it Sage would answer for the user's lead business)";
  setting_spec per_page;
  per_page.key = "items_per_page";
  per_page.type = setting_type::integer;
  per_page.default_value = sage_default_page;
  per_page.min = 1;
  per_page.max = 200;
  per_page.help = "records per page, 1 to 200 (Sage's maximum)";
  k.settings = {business, per_page};
  for (auto& s : sage_streams())
    k.streams.push_back({s.name, s.entity, s.path + ", deletions from deleted_since"});
  k.default_streams = sage_streams;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<sage_connector>(c);
  };
  k.make_writer = make_sage_writer;
  k.check = [](const nlohmann::json& settings) -> std::string {
    auto id = settings.value("business_id", "");
    bool header_safe =
        !id.empty() && id.size() <= 100 && std::all_of(id.begin(), id.end(), [](char ch) {
          return isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
        });
    if (!header_safe)
      return "settings.business_id must be Sage's business id (letters, digits, - and _), got " +
             nlohmann::json(id.substr(0, 40)).dump();
    return "";
  };
  // Sign-in (`ledgersync connect NAME`): Sage's central authorisation server, whose refresh
  // tokens rotate on every use. Without a client_id the api_key is the access token as given.
  append_oauth_settings(k.settings);
  oauth_flow flow;
  flow.authorize_url = "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1";
  flow.token_url = "https://oauth.accounting.sage.com/token";
  flow.revoke_url = "https://oauth.accounting.sage.com/revoke";
  flow.scopes = "full_access";
  k.oauth = flow;
  return k;
}

}  // namespace ledgersync
