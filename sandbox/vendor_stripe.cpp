#include "sandbox/vendor_stripe.hpp"

#include <algorithm>

namespace ledgersync::sandbox {

namespace {

enum coll { customers, charges, payment_intents, invoices, balance_transactions };
const char* const kPrefix[] = {"cus_", "ch_", "pi_", "in_", "txn_"};
const char* const kObject[] = {"customer", "charge", "payment_intent", "invoice",
                               "balance_transaction"};
const char* const kCurrencies[] = {"gbp", "eur", "usd"};

std::string stripe_error(const std::string& type, const std::string& code,
                         const std::string& message, const std::string& param = "") {
  std::string out = "{\"error\":{";
  if (!code.empty()) out += "\"code\":\"" + code + "\",";
  if (!code.empty()) out += "\"doc_url\":\"https://stripe.com/docs/error-codes/" + code + "\",";
  out += "\"message\":\"" + json_escape(message) + "\",";
  if (!param.empty()) out += "\"param\":\"" + json_escape(param) + "\",";
  out += "\"type\":\"" + type + "\"}}";
  return out;
}

std::string num(int64_t v) {
  return std::to_string(v);
}

}  // namespace

const std::vector<std::string>& stripe_api::collections() {
  static const std::vector<std::string> c{"customers", "charges", "payment_intents", "invoices",
                                          "balance_transactions"};
  return c;
}

stripe_api::stripe_api(stripe_options o, clock_fn now, effect_log& effects)
    : opts_(std::move(o)),
      now_(std::move(now)),
      per_second_(opts_.per_second_limit, 1000),
      effects_(effects) {
  int64_t now_ms = now_() / 1000 * 1000;
  // Created ten minutes apart, the newest a minute ago; Stripe's times are whole seconds.
  for (size_t c = 0; c < collections().size(); ++c) {
    colls_.emplace_back(opts_.records, now_ms - 60'000, 600'000);
    if (c == balance_transactions) continue;  // no events of their own
    for (size_t i = 0; i < opts_.records; ++i)
      add_event(c, i, std::string(kObject[c]) + (c == charges ? ".succeeded" : ".created"),
                colls_[c].recs[i].created_ms / 1000);
  }
  std::stable_sort(events_.begin(), events_.end(),
                   [](const event& a, const event& b) { return a.created_s < b.created_s; });
}

std::string stripe_api::object_id(size_t c, size_t idx) const {
  return kPrefix[c] + stable_token(mix64(opts_.seed) ^ (uint64_t(c) << 40) ^ idx, 14);
}

void stripe_api::add_event(size_t c, size_t idx, const std::string& type, int64_t created_s) {
  event e;
  e.id = "evt_" + stable_token(mix64(opts_.seed ^ 0xe7) ^ events_.size(), 24);
  e.type = type;
  e.created_s = created_s;
  e.coll = c;
  e.idx = idx;
  events_.push_back(std::move(e));
}

void stripe_api::render(size_t c, size_t idx, std::string& out) const {
  const auto& r = colls_[c].recs[idx];
  if (c == customers)
    if (auto s = stored_.find(idx); s != stored_.end()) {
      out += s->second.dump();
      return;
    }
  const size_t n = std::max<size_t>(opts_.records, 1);
  uint64_t h = mix64(opts_.seed ^ mix64(c * 1000003 + idx) ^ (uint64_t(r.version) << 40));
  uint64_t fixed = mix64(opts_.seed ^ mix64(c * 1000003 + idx));  // what never changes
  std::string cur = kCurrencies[fixed % 3];
  std::string currency = r.invalid ? "" : "\"currency\":\"" + cur + "\",";
  int64_t created = r.created_ms / 1000;
  int64_t amount = static_cast<int64_t>(h % 90000 + 500);
  std::string customer = object_id(customers, fixed % n);
  std::string head = "{\"id\":\"" + object_id(c, idx) + "\",\"object\":\"" + kObject[c] + "\",";
  if (c == customers) {
    out += head + "\"address\":{\"city\":\"London\",\"country\":\"GB\",\"line1\":\"" +
           num(static_cast<int64_t>(fixed % 300 + 1)) +
           " High Street\",\"line2\":null,\"postal_code\":\"EC1A 1BB\",\"state\":null},"
           "\"balance\":" +
           num(-static_cast<int64_t>(h % 5) * 100) + ",\"created\":" + num(created) +
           ",\"currency\":\"" + cur +
           "\",\"default_source\":null,\"delinquent\":false,\"description\":null,\"email\":"
           "\"billing" +
           num(static_cast<int64_t>(idx + 1)) +
           "@example.com\","
           "\"invoice_prefix\":\"" +
           stable_token(fixed, 7) +
           "\",\"invoice_settings\":{"
           "\"custom_fields\":null,\"default_payment_method\":null,\"footer\":null,"
           "\"rendering_options\":null},\"livemode\":false,\"metadata\":{\"version\":\"" +
           num(r.version) + "\"},\"name\":" +
           (r.invalid ? "null" : "\"Customer " + num(static_cast<int64_t>(idx + 1)) + " Ltd\"") +
           ",\"next_invoice_sequence\":1,\"phone\":null,\"preferred_locales\":[\"en-GB\"],"
           "\"shipping\":null,\"tax_exempt\":\"none\",\"test_clock\":null}";
  } else if (c == charges) {
    out += head + "\"amount\":" + num(amount) + ",\"amount_captured\":" + num(amount) +
           ",\"amount_refunded\":0,\"application\":null,\"application_fee\":null,"
           "\"application_fee_amount\":null,\"balance_transaction\":\"" +
           object_id(balance_transactions, idx) +
           "\",\"billing_details\":{\"address\":null,"
           "\"email\":null,\"name\":\"Jenny Rosen\",\"phone\":null},\"captured\":true,"
           "\"created\":" +
           num(created) + "," + currency + "\"customer\":\"" + customer +
           "\",\"description\":\"Order " + num(static_cast<int64_t>(idx + 1)) +
           "\",\"disputed\":false,\"failure_code\":null,\"failure_message\":null,"
           "\"fraud_details\":{},\"invoice\":null,\"livemode\":false,\"metadata\":{},"
           "\"outcome\":{\"network_status\":\"approved_by_network\",\"reason\":null,"
           "\"risk_level\":\"normal\",\"seller_message\":\"Payment complete.\",\"type\":"
           "\"authorized\"},\"paid\":true,\"payment_intent\":\"" +
           object_id(payment_intents, idx) + "\",\"payment_method\":\"pm_" +
           stable_token(fixed, 24) +
           "\",\"receipt_email\":null,\"refunded\":false,\"status\":\"succeeded\"}";
  } else if (c == payment_intents) {
    bool done = h % 4 != 0;
    out += head + "\"amount\":" + num(amount) +
           ",\"amount_capturable\":0,\"amount_received\":" + num(done ? amount : 0) +
           ",\"automatic_payment_methods\":{\"enabled\":true},"
           "\"canceled_at\":null,\"cancellation_reason\":null,\"capture_method\":\"automatic\","
           "\"client_secret\":\"" +
           object_id(c, idx) + "_secret_" + stable_token(fixed ^ 5, 24) +
           "\",\"confirmation_method\":\"automatic\",\"created\":" + num(created) + "," + currency +
           "\"customer\":\"" + customer + "\",\"description\":null,\"latest_charge\":" +
           (done ? "\"" + object_id(charges, idx) + "\"" : std::string("null")) +
           ",\"livemode\":false,\"metadata\":{},\"payment_method_types\":[\"card\"],"
           "\"status\":\"" +
           (done ? "succeeded" : "requires_payment_method") + "\"}";
  } else if (c == invoices) {
    bool paid = h % 3 == 0;
    out += head + "\"account_country\":\"GB\",\"account_name\":\"Sandbox Ltd\",\"amount_due\":" +
           num(amount) + ",\"amount_paid\":" + num(paid ? amount : 0) +
           ",\"amount_remaining\":" + num(paid ? 0 : amount) +
           ",\"amount_shipping\":0,\"attempt_count\":0,\"attempted\":" + (paid ? "true" : "false") +
           ",\"billing_reason\":\"manual\",\"collection_method\":"
           "\"send_invoice\",\"created\":" +
           num(created) + ",\"currency\":\"" + cur + "\",\"customer\":\"" + customer +
           "\",\"customer_email\":null,\"description\":null,"
           "\"due_date\":" +
           num(created + 30 * 86400) + ",\"effective_at\":" + num(created) +
           ",\"hosted_invoice_url\":null,\"livemode\":false,\"metadata\":{},\"number\":" +
           (r.invalid
                ? std::string("null")
                : "\"" + stable_token(fixed, 7) + "-" + num(static_cast<int64_t>(idx + 1)) + "\"") +
           ",\"status\":\"" + (paid ? "paid" : "open") + "\",\"subtotal\":" + num(amount) +
           ",\"total\":" + num(amount) + "}";
  } else {
    int64_t fee = amount * 14 / 1000 + 20;
    out += head + "\"amount\":" + num(amount) + ",\"available_on\":" + num(created + 2 * 86400) +
           ",\"created\":" + num(created) + "," + currency + "\"description\":\"Order " +
           num(static_cast<int64_t>(idx + 1)) + "\",\"exchange_rate\":null,\"fee\":" + num(fee) +
           ",\"fee_details\":[{\"amount\":" + num(fee) + ",\"application\":null,\"currency\":\"" +
           cur +
           "\",\"description\":\"Stripe processing fees\",\"type\":\"stripe_fee\"}],"
           "\"net\":" +
           num(amount - fee) + ",\"reporting_category\":\"charge\",\"source\":\"" +
           object_id(charges, idx) + "\",\"status\":\"" +
           (created * 1000 + 2 * 86'400'000 <= now_() ? "available" : "pending") +
           "\",\"type\":\"charge\",\"balance_type\":\"payments\"}";
  }
}

void stripe_api::render_event(const event& e, std::string& out) const {
  out += "{\"id\":\"" + e.id + "\",\"object\":\"event\",\"api_version\":\"" +
         opts_.default_version + "\",\"created\":" + num(e.created_s) + ",\"data\":{\"object\":";
  render(e.coll, e.idx, out);
  out +=
      "},\"livemode\":false,\"pending_webhooks\":0,\"request\":{\"id\":null,"
      "\"idempotency_key\":null},\"type\":\"" +
      e.type + "\"}";
}

vendor_response stripe_api::handle(const vendor_request& req) {
  std::lock_guard lock(mu_);
  int64_t now = now_();
  vendor_response r;
  r.set("Request-Id", "req_" + stable_token(mix64(opts_.seed ^ ++request_seq_), 14));
  auto version = req.header("stripe-version");
  r.set("Stripe-Version", version.empty() ? opts_.default_version : version);
  auto fail = [&](int status, std::string body) {
    r.status = status;
    r.body = std::move(body);
    return r;
  };
  auto auth = req.header("authorization");
  if (auth.empty())
    return fail(401, stripe_error("invalid_request_error", "",
                                  "You did not provide an API key. You need to provide your API "
                                  "key in the Authorization header, using Bearer auth."));
  if (auth != "Bearer " + opts_.api_key)
    return fail(
        401, stripe_error("invalid_request_error", "api_key_invalid", "Invalid API Key provided"));
  int64_t retry_ms = 0;
  if (!faults_.empty() || !per_second_.take("account", now, retry_ms)) {
    std::string code = "rate_limit";
    if (!faults_.empty()) code = faults_.front(), faults_.erase(faults_.begin());
    return fail(429, stripe_error("invalid_request_error", code,
                                  code == "lock_timeout"
                                      ? "This object cannot be accessed right now because "
                                        "another API request or Stripe process is accessing it."
                                      : "Too many requests hit the API too quickly. We "
                                        "recommend an exponential backoff of your requests."));
  }
  if (req.method == "POST" || req.path.rfind("/customers/", 0) == 0)
    return customer_request(req, now, std::move(r));
  if (req.method != "GET")
    return fail(405, stripe_error("invalid_request_error", "", "Only GET is served here"));
  std::string name = req.path.empty() ? "" : req.path.substr(1);
  bool is_events = name == "events";
  auto& names = collections();
  auto found = std::find(names.begin(), names.end(), name);
  if (!is_events && found == names.end())
    return fail(404, stripe_error("invalid_request_error", "",
                                  "Unrecognized request URL (GET: /v1/" + name + ")"));
  for (const auto& [key, value] : req.query) {
    static const std::vector<std::string> allowed{"limit",        "starting_after", "ending_before",
                                                  "created[gte]", "created[gt]",    "created[lte]",
                                                  "created[lt]",  "created",        "expand[]"};
    bool ok = std::find(allowed.begin(), allowed.end(), key) != allowed.end() ||
              (is_events && (key == "type" || key == "types[]"));
    if (!ok)
      return fail(400, stripe_error("invalid_request_error", "parameter_unknown",
                                    "Received unknown parameter: " + key, key));
  }
  long limit = 10;
  if (req.has_param("limit")) {
    auto l = read_count(req.param("limit"));
    if (!l)
      return fail(400, stripe_error("invalid_request_error", "parameter_invalid_integer",
                                    "Invalid integer: " + req.param("limit"), "limit"));
    if (*l < 1 || *l > 100)
      return fail(400, stripe_error("invalid_request_error", "",
                                    "This value must be between 1 and 100.", "limit"));
    limit = *l;
  }
  int64_t gte = INT64_MIN, lte = INT64_MAX;
  for (const char* op : {"created[gte]", "created[gt]", "created[lte]", "created[lt]", "created"}) {
    if (!req.has_param(op)) continue;
    auto v = read_count(req.param(op));
    if (!v)
      return fail(400, stripe_error("invalid_request_error", "parameter_invalid_integer",
                                    "Invalid integer: " + req.param(op), op));
    std::string_view o(op);
    if (o == "created[gte]" || o == "created") gte = std::max(gte, *v);
    if (o == "created[gt]") gte = std::max<int64_t>(gte, *v + 1);
    if (o == "created[lte]" || o == "created") lte = std::min(lte, *v);
    if (o == "created[lt]") lte = std::min<int64_t>(lte, *v - 1);
  }
  auto types = req.params("types[]");
  if (req.has_param("type")) types.push_back(req.param("type"));
  if (req.has_param("starting_after") && req.has_param("ending_before"))
    return fail(400, stripe_error("invalid_request_error", "",
                                  "You may only specify one of these parameters: "
                                  "ending_before, starting_after.",
                                  "starting_after"));

  // (created, id, rendered-by) newest first.
  struct item {
    int64_t created;
    size_t order;
    std::string id;
    size_t index;
  };
  std::vector<item> items;
  if (is_events) {
    for (size_t i = 0; i < events_.size(); ++i) {
      const auto& e = events_[i];
      bool type_ok = types.empty();
      for (const auto& t : types)
        type_ok |=
            t == e.type || (t.ends_with(".*") && e.type.rfind(t.substr(0, t.size() - 1), 0) == 0);
      if (type_ok && e.created_s >= gte && e.created_s <= lte)
        items.push_back({e.created_s, i, e.id, i});
    }
  } else {
    size_t c = static_cast<size_t>(found - names.begin());
    const auto& recs = colls_[c].recs;
    for (size_t i = 0; i < recs.size(); ++i) {
      int64_t created = recs[i].created_ms / 1000;
      if (recs[i].deleted || created < gte || created > lte) continue;
      items.push_back({created, i, object_id(c, i), i});
    }
  }
  std::sort(items.begin(), items.end(), [](const item& a, const item& b) {
    return std::pair(a.created, a.order) > std::pair(b.created, b.order);
  });
  size_t from = 0, to = items.size();
  for (const char* cursor : {"starting_after", "ending_before"}) {
    if (!req.has_param(cursor)) continue;
    auto id = req.param(cursor);
    auto it = std::find_if(items.begin(), items.end(), [&](const item& x) { return x.id == id; });
    if (it == items.end())
      return fail(
          400, stripe_error("invalid_request_error", "resource_missing",
                            "No such " +
                                std::string(is_events ? "event" : kObject[found - names.begin()]) +
                                ": '" + id + "'",
                            cursor));
    size_t pos = static_cast<size_t>(it - items.begin());
    if (std::string_view(cursor) == "starting_after")
      from = pos + 1;
    else
      to = pos, from = pos > static_cast<size_t>(limit) ? pos - static_cast<size_t>(limit) : 0;
  }
  bool more = to - from > static_cast<size_t>(limit);
  if (req.has_param("ending_before"))
    more = from > 0;
  else
    to = std::min(to, from + static_cast<size_t>(limit));
  r.body = "{\"object\":\"list\",\"data\":[";
  for (size_t k = from; k < to; ++k) {
    if (k > from) r.body += ',';
    if (is_events)
      render_event(events_[items[k].index], r.body);
    else
      render(static_cast<size_t>(found - names.begin()), items[k].index, r.body);
  }
  r.body +=
      "],\"has_more\":" + std::string(more ? "true" : "false") + ",\"url\":\"/v1/" + name + "\"}";
  return r;
}

long stripe_api::control(vendor_collection::action a, const std::string& collection, size_t count) {
  auto found = index_of(collections(), collection);
  if (!found) return -1;
  size_t c = *found;
  std::lock_guard lock(mu_);
  if (a == vendor_collection::action::remove && c != customers) return 0;
  auto changed = colls_[c].apply(a, count, now_());
  if (c == balance_transactions) return static_cast<long>(changed.size());
  for (size_t idx : changed) {
    std::string type =
        std::string(kObject[c]) + (a == vendor_collection::action::remove ? ".deleted"
                                   : c == payment_intents                 ? ".succeeded"
                                                                          : ".updated");
    add_event(c, idx, type, colls_[c].recs[idx].updated_ms / 1000);
  }
  return static_cast<long>(changed.size());
}

bool stripe_api::fault(const std::string& kind, size_t count) {
  std::lock_guard lock(mu_);
  if (kind == "write_500" || kind == "write_lost" || kind == "write_429") {
    write_faults_.insert(write_faults_.end(), count, kind);
    return true;
  }
  if (kind != "rate_limit" && kind != "lock_timeout") return false;
  faults_.insert(faults_.end(), count, kind);
  return true;
}

std::vector<std::string> stripe_api::records(const std::string& collection) {
  std::vector<std::string> out;
  auto c = index_of(collections(), collection);
  if (!c) return out;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < colls_[*c].recs.size(); ++i) render(*c, i, out.emplace_back());
  return out;
}

}  // namespace ledgersync::sandbox
