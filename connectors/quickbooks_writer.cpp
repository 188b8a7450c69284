// The writing half of the QuickBooks Online connector. A create is one POST carrying
// ?requestid=<the item's key>: QuickBooks answers a repeated requestid with the first answer, so
// a resumed item simply sends the same request again. An update is a sparse POST with
// SyncToken = base_version (read first with a GET when the application gave none); a record
// changed since comes back as Fault 5010, which is a conflict. QuickBooks cannot search by the
// memo field the external_id is kept in, so an upsert with no known vendor id creates.
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"
#include "connectors/push.hpp"
#include "connectors/quickbooks_connector.hpp"
#include "model/push_quickbooks.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

constexpr int qbo_throttle_wait_s = 60;  // Intuit: wait 60 seconds after a throttle

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class quickbooks_writer final : public push_writer {
 public:
  explicit quickbooks_writer(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : json::object();
    realm_ = settings.value("realm_id", "");
    minor_ = settings.value("minor_version", int64_t{75});
  }

  std::string refuses(const std::string& entity, push_op) const override {
    if (model::quickbooks_entity(entity).empty())
      return "QuickBooks Online takes pushes of customers, invoices and payments";
    return "";
  }

  std::vector<std::string> check(const push_item& item) const override {
    return model::quickbooks_check(item.entity, item.op != push_op::update, item.fields);
  }

  std::string version_of(const std::string&, std::string_view stored_body) const override {
    auto j = json::parse(stored_body, nullptr, false);
    if (!j.is_object()) return "";
    auto raw = j.find("raw");
    if (raw == j.end() || !raw->is_object()) return "";
    auto t = raw->find("SyncToken");
    return t != raw->end() && t->is_string() ? t->get<std::string>() : "";
  }

  push_step first_step(const push_item& item, bool) const override {
    // Resumed or not, the same request: the requestid makes a repeat harmless.
    if (item.vendor_id.empty()) return write_step(item, "");
    if (item.base_version.empty()) {
      push_step s;
      s.phase = "read";
      s.request = base();
      s.request.url = company() + "/" + lower(model::quickbooks_entity(item.entity)) + "/" +
                      percent_encode(item.vendor_id) + "?minorversion=" + std::to_string(minor_);
      return s;
    }
    return write_step(item, item.base_version);
  }

  push_answer on_answer(const push_item& item, const push_step& step,
                        const http_response& r) const override {
    push_answer a;
    std::string what = "QuickBooks " + step.phase + " of " + item.entity;
    auto faults = model::quickbooks_faults(r.body);
    if (r.status == 0) {
      a.error = r.error;
      return a;
    }
    bool ok_status = r.status >= 200 && r.status < 300 && faults.empty();
    if (!ok_status) return failure(item, step, r, faults, what);
    auto j = json::parse(r.body, nullptr, false);
    const json* rec = nullptr;
    if (j.is_object())
      if (auto it = j.find(model::quickbooks_entity(item.entity)); it != j.end() && it->is_object())
        rec = &*it;
    if (!rec) {
      a.error.category = error_category::upstream;
      a.error.message = what + ": the answer has no " + model::quickbooks_entity(item.entity);
      return a;
    }
    std::string token = rec->value("SyncToken", "");
    if (step.phase == "read") {
      a.next = write_step(item, token);
      return a;
    }
    a.status = push_status::succeeded;
    a.vendor_id = rec->value("Id", "");
    a.vendor_version = token;
    return a;
  }

 private:
  push_answer failure(const push_item& item, const push_step& step, const http_response& r,
                      const std::vector<model::quickbooks_fault>& faults,
                      const std::string& what) const {
    push_answer a;
    std::string type = faults.empty() ? "" : faults.front().type;
    std::string code = faults.empty() ? "" : faults.front().code;
    std::string said;
    for (const auto& f : faults) {
      if (!said.empty()) said += "; ";
      said += f.code + " " + f.message +
              (f.detail.empty() || f.detail == f.message ? "" : ": " + f.detail);
    }
    auto err = [&](error_category c, bool permanent, std::string hint = "") {
      a.error.category = c;
      a.error.permanent = permanent;
      a.error.message = what + ": HTTP " + std::to_string(r.status) +
                        (said.empty() ? "" : " — QuickBooks " + said);
      a.error.specific_hint = std::move(hint);
      return a;
    };
    if (r.status == 429 || code == "3001" || type == "ThrottleExceeded") {
      err(error_category::rate_limited, false);
      int after = retry_after_of(r);
      a.error.retry_after_s = after >= 0 ? after : qbo_throttle_wait_s;
      return a;
    }
    if (r.status == 401 || r.status == 403 || type == "AuthenticationFault" ||
        type == "AUTHENTICATION" || type == "AuthorizationFault")
      return err(error_category::auth, true,
                 r.status == 403 || type == "AuthorizationFault"
                     ? "QuickBooks refused access to this company or entity: check "
                       "settings.realm_id and the app's permissions"
                     : "QuickBooks refused the access token: connect again");
    // A SystemFault (also inside a 200) or a 5xx: QuickBooks failed, the same request may pass.
    if (r.status >= 500 || r.status == 408 || (!faults.empty() && type != "ValidationFault"))
      return err(
          r.status == 408 || r.status == 504 ? error_category::timeout : error_category::upstream,
          false);
    std::string vendor_name =
        "QuickBooks " + model::quickbooks_entity(item.entity) + " " + item.vendor_id;
    if (code == "5010") {
      a.status = push_status::conflict;
      a.message = vendor_name + " changed since it was read: base_version (SyncToken) " +
                  (step.phase == "write" && item.base_version.empty() ? "read just before"
                                                                      : item.base_version) +
                  " is stale (" + said + ")";
      a.hint = reread_hint(c_.name, item.vendor_id);
      return a;
    }
    if (r.status == 404 || code == "610") {
      if (!item.vendor_id.empty()) return gone_at_vendor(item, "QuickBooks", said);
      a.status = push_status::failed;
      a.message = "QuickBooks refused a reference in the " + item.entity + ": " + said;
      a.hint = "check the ids the item refers to (customer, invoice, account, item)";
      return a;
    }
    std::vector<field_error> errors;
    for (const auto& f : faults)
      errors.push_back({model::quickbooks_field(item.entity, f),
                        f.message + (f.detail.empty() || f.detail == f.message ? "" : ": " + f.detail)});
    return refused_by_vendor(item, "QuickBooks", std::move(errors),
                             "QuickBooks refused the " + item.entity + ": " +
                                 (said.empty() ? r.body.substr(0, 200) : said));
  }

  push_step write_step(const push_item& item, const std::string& sync_token) const {
    push_step s;
    s.phase = "write";
    s.writes = true;
    s.request = base();
    s.request.method = "POST";
    s.request.url = company() + "/" + lower(model::quickbooks_entity(item.entity)) +
                    "?requestid=" + percent_encode(item.idempotency_key) +
                    "&minorversion=" + std::to_string(minor_);
    s.request.headers.emplace_back("Content-Type", "application/json");
    auto body = model::quickbooks_body(item.entity, item.fields, item.external_id, item.vendor_id,
                                       sync_token);
    // check() and parse_push_items() refused what would fail here; an empty body then makes
    // QuickBooks answer with its own ValidationFault rather than us sending half a record.
    s.request.body = body.ok() ? *body : "{}";
    return s;
  }

  http_request base() const { return vendor_base_request(c_, {}); }
  std::string company() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b + "/" + realm_;
  }

  const integration_config& c_;
  std::string realm_;
  int64_t minor_ = 75;
};

}  // namespace

std::unique_ptr<push_writer> make_quickbooks_writer(const integration_config& c) {
  return std::make_unique<quickbooks_writer>(c);
}

}  // namespace ledgersync
