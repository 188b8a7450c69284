// The writing half of the Stripe connector: customers only. Every POST carries the item's
// Idempotency-Key, so a resumed item sends the same request again and Stripe replays its first
// answer. An upsert with no known vendor id first searches by metadata[external_id]
// (/v1/customers/search); the update that follows uses a key of its own ("<key>-update"),
// since Stripe refuses one key on two different requests. Stripe has no concurrency field:
// an update overwrites whatever changed at Stripe since (README, "Pushing records").
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"
#include "connectors/push.hpp"
#include "connectors/stripe_connector.hpp"
#include "model/push_stripe.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

class stripe_writer final : public push_writer {
 public:
  explicit stripe_writer(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : json::object();
    version_ = settings.value("stripe_version", "2024-06-20");
  }

  std::string refuses(const std::string& entity, push_op) const override {
    if (entity != "customer")
      return "Stripe takes pushes of customers only (its invoices and payments are made by "
             "Stripe's own billing, not recorded from outside)";
    return "";
  }

  std::vector<std::string> check(const push_item& item) const override {
    auto out = model::stripe_check(item.fields);
    // Ignoring it would let the application believe a change at Stripe stops its update.
    if (!item.base_version.empty())
      out.push_back(
          "base_version: Stripe has no version to check an update against (an update overwrites "
          "what changed at Stripe since); leave base_version out");
    return out;
  }

  std::string version_of(const std::string&, std::string_view) const override {
    return "";  // Stripe has no version to compare an update against
  }

  push_step first_step(const push_item& item, bool resumed) const override {
    if (!item.vendor_id.empty()) return write_step(item, item.vendor_id, item.idempotency_key);
    // Stripe keeps idempotency keys for 24 hours: a create resumed later than that (the item
    // stayed `sending` while disabled, or waiting for credentials) looks the customer up first.
    constexpr int64_t key_life_ms = 23 * 3600 * 1000;  // an hour short of Stripe's 24
    if (item.op == push_op::upsert || (resumed && item.sending_for_ms > key_life_ms)) {
      push_step s;
      s.phase = "lookup";
      s.request = base();
      std::string ext;
      for (char ch : item.external_id) {
        if (ch == '\'' || ch == '\\') ext += '\\';
        ext += ch;
      }
      s.request.url = root() + "/v1/customers/search?query=" +
                      percent_encode("metadata['external_id']:'" + ext + "'");
      return s;
    }
    return write_step(item, "", item.idempotency_key);
  }

  push_answer on_answer(const push_item& item, const push_step& step,
                        const http_response& r) const override {
    push_answer a;
    if (r.status == 0) {
      a.error = r.error;
      return a;
    }
    if (r.status < 200 || r.status >= 300) return failure(item, step, r);
    auto j = json::parse(r.body, nullptr, false);
    if (step.phase == "lookup") {
      auto data = j.is_object() ? j.find("data") : j.end();
      if (!j.is_object() || data == j.end() || !data->is_array()) {
        a.error.category = error_category::upstream;
        a.error.message = "Stripe customer search: the answer has no data";
        return a;
      }
      if (data->empty()) {
        a.next = write_step(item, "", item.idempotency_key);
      } else if (item.op == push_op::create) {  // the create had landed: done, not made again
        a.status = push_status::succeeded;
        a.vendor_id = (*data)[0].value("id", "");
      } else {
        a.next = write_step(item, (*data)[0].value("id", ""), item.idempotency_key + "-update");
      }
      return a;
    }
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
      a.error.category = error_category::upstream;
      a.error.message = "Stripe customer " + step.phase + ": the answer has no id";
      return a;
    }
    a.status = push_status::succeeded;
    a.vendor_id = j["id"].get<std::string>();
    return a;
  }

 private:
  push_answer failure(const push_item& item, const push_step& step, const http_response& r) const {
    push_answer a;
    auto e = model::stripe_error_of(r.body);
    std::string said = e.message.empty() ? r.body.substr(0, 200) : e.message;
    auto err = [&](error_category c, bool permanent, std::string hint = "") {
      a.error.category = c;
      a.error.permanent = permanent;
      a.error.retry_after_s = retry_after_of(r);
      a.error.message =
          "Stripe customer " + step.phase + ": HTTP " + std::to_string(r.status) + " — " + said;
      a.error.specific_hint = std::move(hint);
      return a;
    };
    if (r.status == 401)
      return err(error_category::auth, true,
                 "Stripe refused the API key: reconfigure with a current secret key");
    if (r.status == 403)
      return err(error_category::auth, true,
                 "the Stripe key may not write customers (a restricted key): give it "
                 "Customers write permission");
    if (r.status == 429) return err(error_category::rate_limited, false);
    // 409: another request with the same key is still running at Stripe; try again later.
    if (r.status >= 500 || r.status == 409 || e.type == "api_error")
      return err(error_category::upstream, false);
    a.status = push_status::failed;
    if (e.type == "idempotency_error") {
      a.message = "Stripe refused the idempotency key " + item.idempotency_key +
                  ": it was used with other parameters (" + said + ")";
      a.hint = "push the record again (a new push of the external_id gets a new key)";
      return a;
    }
    if (r.status == 404 || e.code == "resource_missing")
      return gone_at_vendor(item, "Stripe", said);
    return refused_by_vendor(item, "Stripe", {{model::stripe_field(e.param), said}},
                             "Stripe refused the customer: " + said);
  }

  push_step write_step(const push_item& item, const std::string& id, const std::string& key) const {
    push_step s;
    s.phase = id.empty() ? "create" : "update";
    s.writes = true;
    s.request = base();
    s.request.method = "POST";
    s.request.url = root() + "/v1/customers" + (id.empty() ? "" : "/" + percent_encode(id));
    s.request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    s.request.headers.emplace_back("Idempotency-Key", key);
    s.request.body = model::stripe_customer_form(item.fields, item.external_id, id.empty());
    return s;
  }

  http_request base() const { return vendor_base_request(c_, {{"Stripe-Version", version_}}); }
  std::string root() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  }

  const integration_config& c_;
  std::string version_;
};

}  // namespace

std::unique_ptr<push_writer> make_stripe_writer(const integration_config& c) {
  return std::make_unique<stripe_writer>(c);
}

}  // namespace ledgersync
