#include "connectors/stripe_connector.hpp"

#include <simdjson.h>

#include <algorithm>
#include <boost/url/url.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"
#include "connectors/json_state.hpp"
#include "connectors/json_text.hpp"
#include "connectors/paging.hpp"
#include "connectors/push.hpp"
#include "model/dates.hpp"
#include "model/map_stripe.hpp"

namespace ledgersync {

namespace {

// Where a Stripe stream stands. `events_since` (Unix seconds, as text) is where the next
// incremental pass reads events from: "" until a first list pass has completed. `events`: this
// pass reads the event feed rather than the list. `pass_max`: the newest `created` committed in
// this pass.
struct stripe_state : json_state<stripe_state> {
  std::string events_since;
  bool events = false;
  std::string page_token;
  int64_t pass_max = 0;

  template <class S, class F>
  static void each_field(S& s, F&& f) {
    f("events_since", s.events_since);
    f("events", s.events);
    f("page_token", s.page_token);
    f("pass_max", s.pass_max);
  }
};

// The Stripe object a stream lists, what its event types start with: "/v1/charges" -> "charge".
std::string object_of(const stream_config& s) {
  std::string name = s.path.substr(s.path.rfind('/') + 1);
  return name.ends_with('s') ? name.substr(0, name.size() - 1) : name;
}

// Balance transactions are never changed and have no events of their own: their incremental
// pass lists the ones created since the newest seen instead.
bool has_events(const stream_config& s) {
  return object_of(s) != "balance_transaction";
}

int64_t unix_of(const std::string& text) {
  int64_t t = 0;
  std::from_chars(text.data(), text.data() + text.size(), t);
  return t;
}

class stripe_connector final : public connector {
 public:
  explicit stripe_connector(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : nlohmann::json::object();
    version_ = settings.value("stripe_version", "2024-06-20");
  }

  std::string begin_pass(const stream_config&, const std::string& state, bool full) const override {
    auto st = stripe_state::parse(state);
    st.events = !full && !st.events_since.empty();
    st.page_token.clear();
    st.pass_max = 0;
    return st.dump();
  }

  // After a list pass, events from the newest object's creation on cover every change made
  // since it was listed; after an event pass, from the newest event on. Inclusive (created[gte]):
  // an event seen twice comes back unchanged and its content hash keeps it from being rewritten.
  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    auto st = stripe_state::parse(state);
    if (auto t = unix_of(page.max_updated); t > st.pass_max) st.pass_max = t;
    if (page.has_more) {
      st.page_token = page.next_token;
      return st.dump();
    }
    if (st.pass_max > 0 && st.pass_max > unix_of(st.events_since))
      st.events_since = std::to_string(st.pass_max);
    st.events = false;
    st.page_token.clear();
    st.pass_max = 0;
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    return stripe_state::parse(state).page_token;
  }

  http_request page_request(const stream_config& s, const stream_cursor& c) const override {
    auto st = stripe_state::parse(c.state);
    auto r = base_request();
    bool feed = st.events && has_events(s);
    boost::urls::url u(base() + (feed ? "/v1/events" : s.path));
    auto params = u.params();
    if (feed) params.append({"types[]", object_of(s) + ".*"});
    if (st.events) params.append({"created[gte]", st.events_since});
    params.set("limit", "100");
    starting_after_paging("starting_after", "/has_more")->apply(st.page_token, u);
    r.url = std::string(u.buffer());
    return r;
  }

  http_request probe_request(const stream_config& s) const override {
    auto r = base_request();
    r.url = base() + s.path + "?limit=1";
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor& c,
                         const http_response& resp) override {
    auto st = stripe_state::parse(c.state);
    page_result out;
    // The registry cannot require the top-level key; without it every answer is a 401.
    if (c_.api_key.empty()) {
      out.error = make_error_info(error_category::auth,
                                  "stream " + s.name +
                                      ": Stripe needs the secret API key (give it with "
                                      "--api-key-file)");
      return out;
    }
    out.error = classify_response(resp, "stream " + s.name);
    if (!out.error.ok()) return out;
    simdjson::dom::element doc;
    simdjson::dom::array data;
    if (parser_.parse(resp.body).get(doc) || doc["data"].get_array().get(data)) {
      out.error = make_error_info(error_category::upstream,
                                  "stream " + s.name + ": the answer is not a Stripe list");
      return out;
    }
    size_t count = 0;
    std::string last_id;
    int64_t newest = 0;
    for (auto item : data) {
      ++count;
      last_id.clear();
      if (auto v = item["id"]; !v.error()) last_id = scalar_text(v.value_unsafe());
      int64_t created = 0;
      if (auto v = item["created"].get_int64(); !v.error()) created = v.value_unsafe();
      newest = std::max(newest, created);
      auto text = simdjson::minify(item);
      auto m = st.events && has_events(s) ? model::map_stripe_event(text)
                                          : model::map_stripe_object(text);
      if (!m.problems.empty()) {
        invalid_record bad;
        bad.id = m.record.id.empty() ? last_id : m.record.id;
        for (auto& p : m.problems) bad.missing.push_back(p.field);
        bad.body = text;
        out.invalid.push_back(std::move(bad));
        continue;
      }
      record_write w;
      w.stream = s.name;
      w.id = m.record.id;
      w.entity = m.record.entity;
      w.updated_at = model::datetime_from_unix(created);
      w.deleted = m.record.deleted;
      if (!w.deleted) w.body = model::to_json_text(m.record);
      w.hash_body();  // here, off the writer's thread
      out.records.push_back(std::move(w));
    }
    if (newest > 0) out.max_updated = std::to_string(newest);
    auto next = starting_after_paging("starting_after", "/has_more")
                    ->next(page_view{doc, resp, count, last_id}, st.page_token, {});
    out.has_more = next.has_more;
    out.next_token = std::move(next.token);
    return out;
  }

 private:
  std::string base() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  }

  http_request base_request() const {
    return vendor_base_request(c_, {{"Stripe-Version", version_}});
  }

  const integration_config& c_;
  std::string version_;
  simdjson::dom::parser parser_;
};

stream_config stripe_stream(const char* name, const char* entity) {
  stream_config s;
  s.name = name;
  s.entity = entity;
  s.path = std::string("/v1/") + name;
  s.paging = pagination_style::starting_after;
  s.page_size = 100;
  return s;
}

std::vector<stream_config> stripe_streams() {
  return {stripe_stream("customers", "customer"), stripe_stream("charges", "payment"),
          stripe_stream("payment_intents", "payment"), stripe_stream("invoices", "invoice"),
          stripe_stream("balance_transactions", "bank_transaction")};
}

}  // namespace

connector_kind stripe_connector_kind() {
  connector_kind k;
  k.name = "stripe";
  k.label = "Stripe";
  k.description =
      "Stripe's API with a secret key (--api-key-file): customers, charges, payment intents, "
      "invoices and balance transactions; the first sync lists them, later ones read /v1/events.";
  setting_spec version;
  version.key = "stripe_version";
  version.default_value = "2024-06-20";
  version.help = "the Stripe-Version header every request pins (YYYY-MM-DD)";
  setting_spec mode;
  mode.key = "mode";
  mode.type = setting_type::enumeration;
  mode.allowed = {"test", "live"};
  mode.default_value = "test";
  mode.help =
      "test or live mode: Stripe allows 25 requests/s in test mode and 100/s live, the "
      "default request rate of each";
  k.settings = {version, mode};
  for (auto& s : stripe_streams())
    k.streams.push_back({s.name, s.entity, "/v1/" + s.name + ", changes from /v1/events"});
  k.default_streams = stripe_streams;
  k.make_writer = make_stripe_writer;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<stripe_connector>(c);
  };
  // Stripe's per-second read limits, by mode, evenly spaced so no second sees one too many.
  k.default_rate = [](const nlohmann::json& settings) {
    bool live = settings.value("mode", "test") == "live";
    return request_rate{live ? 100u : 25u, std::chrono::seconds(1), 1};
  };
  k.check = [](const nlohmann::json& settings) -> std::string {
    auto v = settings.value("stripe_version", "");
    bool shaped = v.size() == 10 && v[4] == '-' && v[7] == '-' &&
                  std::all_of(v.begin(), v.end(), [](char ch) { return ch == '-' || isdigit(ch); });
    if (!shaped || !model::normalize_date(v).ok())
      return "settings.stripe_version must be a date YYYY-MM-DD (Stripe's API version), got " +
             model::quote_text(v, 20);
    return "";
  };
  return k;
}

}  // namespace ledgersync
