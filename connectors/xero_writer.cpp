// The writing half of the Xero connector (connectors/push.hpp): contacts, invoices and payments
// through api.xro/2.0. Creates are PUT on the collection with an Idempotency-Key, so a resumed
// create re-sends the same request and Xero answers it once; updates are POST on the record,
// after a read that compares its UpdatedDateUTC with the item's base_version (Xero checks no
// version itself). An upsert with no known Xero id first looks the record up by the
// external_id kept on it (Contact.ContactNumber, Reference of invoices and payments).
#include <boost/url/url.hpp>

#include "connectors/connector.hpp"
#include "connectors/push.hpp"
#include "connectors/xero_connector.hpp"
#include "model/entities.hpp"
#include "model/push_xero.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

const char* const kPaymentsFixed =
    "Xero payments cannot be changed once made; delete it in Xero and push a new payment "
    "with a new external_id instead";

std::string where_field(const std::string& entity) {
  return entity == "customer" ? "ContactNumber" : "Reference";
}

// Xero's where clause quotes with "…"; a quote inside would end it.
std::string where_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string str(const json& j, const char* key) {
  auto v = j.find(key);
  return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

class xero_writer final : public push_writer {
 public:
  explicit xero_writer(const integration_config& c) : c_(c) {
    if (c.settings.is_object()) tenant_ = str(c.settings, "tenant_id");
    base_ = c.base_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  std::string refuses(const std::string& entity, push_op op) const override {
    if (entity != "customer" && entity != "invoice" && entity != "payment")
      return "Xero takes pushes of customers (Contacts), invoices and payments, not " + entity;
    if (entity == "payment" && op == push_op::update) return kPaymentsFixed;
    return "";
  }

  std::vector<std::string> check(const push_item& item) const override {
    std::vector<std::string> out;
    const auto& f = item.fields;
    auto too_long = [&](const char* key, size_t max, const char* what) {
      auto v = str(f, key);
      if (v.size() > max)
        out.push_back(std::string("fields.") + key + ": Xero takes at most " + std::to_string(max) +
                      " characters for " + what);
    };
    if (item.entity == "customer") {
      if (item.external_id.size() > 50)
        out.push_back("external_id: Xero keeps it in ContactNumber, at most 50 characters");
      too_long("name", 255, "a contact's Name");
      too_long("email", 255, "EmailAddress");
      too_long("tax_number", 50, "TaxNumber");
    } else if (item.entity == "invoice") {
      if (f.contains("reference"))
        out.push_back(
            "fields.reference: Xero keeps the external_id in the invoice's Reference; leave "
            "reference out");
      too_long("number", 255, "InvoiceNumber");
      if (str(f, "status") == "paid")
        out.push_back(
            "fields.status: Xero marks an invoice paid itself once payments cover it; push "
            "draft, open or void");
      if (auto l = f.find("lines"); l != f.end() && l->is_array())
        for (size_t i = 0; i < l->size(); ++i)
          if (str((*l)[i], "description").size() > 4000)
            out.push_back("fields.lines/" + std::to_string(i) +
                          "/description: Xero takes at most 4000 characters");
    } else if (item.entity == "payment") {
      if (f.contains("reference"))
        out.push_back(
            "fields.reference: Xero keeps the external_id in the payment's Reference; leave "
            "reference out");
      if (item.op != push_op::update && item.vendor_id.empty()) {
        if (!f.contains("invoice_id") && !f.contains("invoice_external_id"))
          out.push_back(
              "fields.invoice_external_id: Xero applies a payment to an invoice: give "
              "invoice_external_id (or invoice_id)");
        if (!f.contains("account"))
          out.push_back(
              "fields.account: the code of the Xero account the money went to (a bank account, "
              "or one with payments enabled), e.g. \"090\"");
        if (!f.contains("amount")) out.push_back("fields.amount: is missing");
        if (!f.contains("date")) out.push_back("fields.date: is missing");
      }
    }
    return out;
  }

  std::string version_of(const std::string&, std::string_view stored_body) const override {
    auto j = json::parse(stored_body, nullptr, false);
    if (!j.is_object()) return "";
    auto raw = j.find("raw");
    return raw == j.end() ? "" : model::xero_version(*raw);
  }

  push_step first_step(const push_item& item, bool resumed) const override {
    if (!item.vendor_id.empty()) {
      // A payment is never written twice: its read only confirms it is there.
      if (item.entity == "payment" || (!resumed && !item.base_version.empty()))
        return read_step(item, item.vendor_id);
      return write_step(item, item.vendor_id);
    }
    if (item.op == push_op::create) return write_step(item, "");
    return lookup_step(item);
  }

  push_answer on_answer(const push_item& item, const push_step& step,
                        const http_response& r) const override {
    push_answer a;
    std::string what = "push of " + item.entity + " " + model::quote_text(item.external_id);
    auto limits = read_xero_limits(r, what);
    a.pause_ms = limits.pause_ms;
    a.shared_pause_ms = limits.shared_pause_ms;
    if (!limits.refused.ok()) {
      a.error = limits.refused;
      return a;
    }
    if (auto e = explain_xero_refusal(r, what); !e.ok()) {
      e.permanent = true;
      a.error = e;
      return a;
    }
    if (r.status == 0 || r.status >= 500 || r.status == 408) {
      a.error = classify_response(r, what);
      return a;
    }
    if (r.status == 404 && step.phase != "lookup") return gone_at_vendor(item, "Xero");
    if (r.status < 200 || r.status >= 300) return refused(item, r, what);
    auto doc = json::parse(r.body, nullptr, false);
    auto coll = model::xero_collection(item.entity);
    const json* rec = nullptr;
    if (doc.is_object())
      if (auto l = doc.find(coll); l != doc.end() && l->is_array()) {
        for (const auto& x : *l) {
          if (step.phase == "lookup" &&
              str(x, where_field(item.entity).c_str()) != item.external_id)
            continue;
          rec = &x;
          break;
        }
        if (step.phase == "lookup" && !rec) {
          if (item.op == push_op::update) return not_at_vendor(item, "Xero");
          a.next = write_step(item, "");
          return a;
        }
      }
    if (!rec) {
      a.error = make_error_info(error_category::upstream,
                                what + ": Xero's answer has no " + coll + " record");
      return a;
    }
    auto id = str(*rec, model::xero_id_field(item.entity).c_str());
    auto version = model::xero_version(*rec);
    if (step.phase == "write" || (item.entity == "payment" && step.phase == "lookup")) {
      a.vendor_id = id;
      a.vendor_version = version;
      a.status = push_status::succeeded;
      return a;
    }
    if (item.entity == "payment") {  // read of a known payment: nothing can change
      a.status = push_status::failed;
      a.vendor_id = id;
      a.message = kPaymentsFixed;
      a.hint = "push the change as a new payment with a new external_id";
      return a;
    }
    if (step.phase == "read" && !item.base_version.empty() &&
        !model::same_xero_version(item.base_version, version))
      return changed_at_vendor(item, "Xero", id, "UpdatedDateUTC", item.base_version, version,
                               c_.name);
    if (step.phase == "lookup" && !item.base_version.empty()) {
      a.next = read_step(item, id);
      return a;
    }
    a.next = write_step(item, id);
    return a;
  }

 private:
  push_answer refused(const push_item& item, const http_response& r,
                      const std::string& what) const {
    std::vector<field_error> errors;
    for (auto& p : model::xero_validation_errors(r.body, item.entity, item.fields))
      errors.push_back({p.field, p.message});
    return refused_by_vendor(item, "Xero", std::move(errors), classify_response(r, what).message);
  }

  std::string url(const push_item& item, const std::string& id) const {
    // The vendor's ids come from its answers: encoded, so none can reach another path.
    return base_ + "/" + model::xero_collection(item.entity) +
           (id.empty() ? "" : "/" + percent_encode(id));
  }

  http_request base() const { return vendor_base_request(c_, {{"xero-tenant-id", tenant_}}); }

  push_step lookup_step(const push_item& item) const {
    push_step s{"lookup", false, base()};
    boost::urls::url u(url(item, ""));
    u.params().append(
        {"where", where_field(item.entity) + "==\"" + where_value(item.external_id) + "\""});
    s.request.url = std::string(u.buffer());
    return s;
  }

  push_step read_step(const push_item& item, const std::string& id) const {
    push_step s{"read", false, base()};
    s.request.url = url(item, id);
    return s;
  }

  push_step write_step(const push_item& item, const std::string& id) const {
    push_step s{"write", true, base()};
    // PUT creates; POST on the record updates it. Both carry the key: a resumed update
    // re-sends the same request too.
    s.request.method = id.empty() ? "PUT" : "POST";
    s.request.url = url(item, id);
    s.request.headers.emplace_back("Content-Type", "application/json");
    // An upsert whose create landed unanswered finds the record when resumed and updates it:
    // under the create's key Xero would refuse that other request, so updates take their own.
    if (!item.idempotency_key.empty())
      s.request.headers.emplace_back("Idempotency-Key",
                                     item.idempotency_key + (id.empty() ? "" : "-u"));
    s.request.body =
        item.entity == "customer"  ? model::xero_contact_body(item.fields, item.external_id, id)
        : item.entity == "invoice" ? model::xero_invoice_body(item.fields, item.external_id, id)
                                   : model::xero_payment_body(item.fields, item.external_id);
    return s;
  }

  const integration_config& c_;
  std::string tenant_, base_;
};

}  // namespace

std::unique_ptr<push_writer> make_xero_writer(const integration_config& config) {
  return std::make_unique<xero_writer>(config);
}

}  // namespace ledgersync
