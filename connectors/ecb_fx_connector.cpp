#include "connectors/ecb_fx_connector.hpp"

#include <set>

#include "connectors/connector.hpp"
#include "connectors/watermark.hpp"
#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/ecb_fx.hpp"

namespace ledgersync {

namespace {

// Where the fx_rates stream stands. `newest` is the newest day imported; `since` is the day
// this pass imports after ("" in a full pass, or before the first one).
struct ecb_state {
  std::string newest;
  std::string since;

  static ecb_state parse(const std::string& text) {
    ecb_state st;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return st;
    if (auto v = j.find("newest"); v != j.end() && v->is_string()) st.newest = *v;
    if (auto v = j.find("since"); v != j.end() && v->is_string()) st.since = *v;
    return st;
  }
  std::string dump() const {
    nlohmann::json j = nlohmann::json::object();
    if (!newest.empty()) j["newest"] = newest;
    if (!since.empty()) j["since"] = since;
    return j.dump();
  }
};

// The ECB publishes a day's rates on that day (around 16:00 CET), so the file has changed since
// `day` was imported only if it was modified after the next day began: asking "modified since
// the next midnight" gets a 304 exactly while no newer day exists.
std::string next_midnight_http_date(const std::string& day) {
  auto t = parse_instant(day);
  if (!t) return "";
  return http_date_of(model::datetime_from_unix(t->seconds + 86400));
}

class ecb_fx_connector final : public connector {
 public:
  explicit ecb_fx_connector(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : nlohmann::json::object();
    file_ = settings.value("history", "daily") == "90d" ? "eurofxref-hist-90d.xml"
                                                        : "eurofxref-daily.xml";
    if (auto cur = settings.find("currencies"); cur != settings.end() && cur->is_array())
      for (auto& code : *cur)
        if (code.is_string()) currencies_.insert(code.get<std::string>());
  }

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = ecb_state::parse(state);
    st.since = full ? "" : st.newest;
    return st.dump();
  }

  // The file is one page: its newest day becomes the stream's.
  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = ecb_state::parse(state);
    auto day = page.max_updated.substr(0, 10);
    if (day > st.newest) st.newest = day;
    st.since.clear();
    return st.dump();
  }

  std::string page_token(const std::string&) const override { return ""; }
  // The files hold the latest day or 90 days: earlier rates are not gone for being absent.
  bool full_pass_sees_everything(const stream_config&) const override { return false; }

  http_request page_request(const stream_config&, const stream_cursor& c) const override {
    auto r = request();
    auto st = ecb_state::parse(c.state);
    if (!st.since.empty())
      if (auto since = next_midnight_http_date(st.since); !since.empty())
        r.headers.emplace_back("If-Modified-Since", since);
    return r;
  }

  http_request probe_request(const stream_config&) const override {
    auto r = request();
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor& c,
                         const http_response& resp) override {
    page_result out;
    auto st = ecb_state::parse(c.state);
    // Not modified since the newest day imported: nothing new, the pass ends empty.
    if (resp.status == 304 && !st.since.empty()) return out;
    out.error = classify_response(resp, "stream " + s.name);
    if (!out.error.ok()) return out;
    auto rates = model::parse_ecb_fx(resp.body);
    if (!rates.ok()) {
      out.error =
          make_error_info(error_category::upstream, "stream " + s.name + ": " + rates.error);
      return out;
    }
    for (auto& rec : *rates) {
      auto day = rec.fields.value("date", "");
      auto updated = day + "T00:00:00Z";
      if (updated > out.max_updated) out.max_updated = updated;
      // Published rates never change: the days already imported are not written again.
      if (!st.since.empty() && day <= st.since) continue;
      if (!currencies_.empty() && !currencies_.count(rec.fields.value("quote", ""))) continue;
      if (auto problems = model::validate(rec); !problems.empty()) {
        invalid_record bad;
        bad.id = rec.id;
        for (auto& p : problems) bad.missing.push_back(p.field);
        bad.body = model::to_json_text(rec);
        out.invalid.push_back(std::move(bad));
        continue;
      }
      record_write w;
      w.stream = s.name;
      w.id = rec.id;
      w.entity = rec.entity;
      w.updated_at = std::move(updated);
      w.body = model::to_json_text(rec);
      w.hash_body();  // here, off the writer's thread
      out.records.push_back(std::move(w));
    }
    return out;
  }

 private:
  http_request request() const {
    http_request r;
    r.timeout_ms = c_.request_timeout_ms;
    r.max_body_bytes = c_.max_body_bytes;
    r.headers.emplace_back("Accept", "application/xml, text/xml");
    std::string base = c_.base_url.empty() ? ecb_fx_default_base_url : c_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    r.url = base + "/" + file_;
    // The URL comes from the admin's settings alone: the one origin (or local folder) allowed.
    r.allow_file = r.url.rfind("file:", 0) == 0;
    r.allowed_origin = r.allow_file ? "" : origin_of(r.url);
    for (auto& [k, v] : c_.headers) r.headers.emplace_back(k, v);
    return r;
  }

  const integration_config& c_;
  std::string file_;
  std::set<std::string> currencies_;  // empty: every currency the file has
};

std::vector<stream_config> ecb_fx_streams() {
  stream_config s;
  s.name = "fx_rates";
  s.entity = "fx_rate";
  // The file read is the `history` setting's; the path only satisfies the stream schema.
  s.path = "/eurofxref-daily.xml";
  s.paging = pagination_style::none;
  s.records_pointer.clear();
  s.updated_pointer.clear();
  s.incremental_param.clear();
  s.page_size_param.clear();
  s.total_pointer.clear();
  return {s};
}

}  // namespace

connector_kind ecb_fx_connector_kind() {
  connector_kind k;
  k.name = "ecb_fx";
  k.label = "ECB euro reference rates";
  k.default_base_url = ecb_fx_default_base_url;
  k.description =
      "The European Central Bank's euro foreign exchange reference rates (XML, no key needed): "
      "one fx_rate record per day and currency, base EUR.";
  setting_spec history;
  history.key = "history";
  history.type = setting_type::enumeration;
  history.allowed = {"daily", "90d"};
  history.default_value = "daily";
  history.help =
      "which file to read: daily (eurofxref-daily.xml, the latest day) or 90d "
      "(eurofxref-hist-90d.xml, the last 90 days, for a first import or to catch up)";
  setting_spec currencies;
  currencies.key = "currencies";
  currencies.type = setting_type::array;
  currencies.help =
      "the ISO 4217 codes to import (e.g. [\"USD\",\"GBP\"]); absent: every currency published";
  k.settings = {history, currencies};
  k.streams = {{"fx_rates", "fx_rate", "euro reference rates, one record per day and currency"}};
  k.default_streams = ecb_fx_streams;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<ecb_fx_connector>(c);
  };
  k.check = [](const nlohmann::json& settings) -> std::string {
    auto list = settings.value("currencies", nlohmann::json::array());
    for (auto& code : list) {
      if (!code.is_string())
        return "settings.currencies must list ISO 4217 codes as strings, got " + code.dump();
      if (!model::find_currency(code.get<std::string>()))
        return "settings.currencies: " + model::quote_text(code.get<std::string>(), 16) +
               " is not an ISO 4217 currency code";
    }
    return "";
  };
  return k;
}

}  // namespace ledgersync
