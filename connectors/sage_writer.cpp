// The writing half of the Sage connector (connectors/push.hpp): contacts, sales invoices and
// contact payments through Sage Business Cloud Accounting v3.1. Sage has no idempotency key,
// so the application's external_id is the record's `reference`: a create that may already have
// landed (resumed) and an upsert with no known Sage id first look the record up by it. Sage
// checks no version on PUT either: an update first reads the record and compares its
// updated_at with the item's base_version.
#include <boost/url/url.hpp>

#include "connectors/connector.hpp"
#include "connectors/push.hpp"
#include "connectors/sage_connector.hpp"
#include "model/entities.hpp"
#include "model/push_sage.hpp"
#include "model/push_xero.hpp"

namespace ledgersync {

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  auto v = j.find(key);
  return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

class sage_writer final : public push_writer {
 public:
  explicit sage_writer(const integration_config& c) : c_(c) {
    if (c.settings.is_object()) business_ = str(c.settings, "business_id");
    base_ = c.base_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  std::string refuses(const std::string& entity, push_op) const override {
    if (entity != "customer" && entity != "invoice" && entity != "payment")
      return "Sage takes pushes of customers (contacts), invoices (sales_invoices) and payments "
             "(contact_payments), not " +
             entity;
    return "";
  }

  std::vector<std::string> check(const push_item& item) const override {
    std::vector<std::string> out;
    const auto& f = item.fields;
    bool creating = item.op != push_op::update && item.vendor_id.empty();
    auto needs = [&](std::initializer_list<const char*> keys, const std::string& why) {
      for (const char* k : keys)
        if (f.contains(k)) return;
      out.push_back("fields." + std::string(*keys.begin()) + ": " + why);
    };
    if (item.entity == "customer") {
      if (creating) needs({"name"}, "is missing (Sage requires a contact's name)");
    } else if (item.entity == "invoice" || item.entity == "payment") {
      if (f.contains("reference"))
        out.push_back("fields.reference: Sage keeps the external_id in the " +
                      std::string(item.entity == "invoice" ? "invoice's" : "payment's") +
                      " reference; leave reference out");
    }
    if (item.entity == "invoice") {
      if (creating) {
        needs({"customer_external_id", "customer_id"},
              "Sage bills a contact: give customer_external_id (or customer_id)");
        needs({"issue_date"}, "is missing (Sage's invoice date)");
        needs({"lines"}, "Sage needs at least one invoice line");
      }
      if (auto l = f.find("lines"); l != f.end() && l->is_array())
        for (size_t i = 0; i < l->size(); ++i)
          if (str((*l)[i], "account_code").empty())
            out.push_back("fields.lines/" + std::to_string(i) +
                          "/account_code: Sage needs the ledger account id of every line "
                          "(GET /ledger_accounts lists them)");
      if (auto s = str(f, "status"); !s.empty())
        out.push_back("fields.status: Sage sets an invoice's status itself; leave it out");
    }
    if (item.entity == "payment" && creating) {
      needs({"customer_external_id", "customer_id"},
            "Sage records a receipt from a contact: give customer_external_id (or customer_id)");
      needs({"account"}, "the Sage bank_account id the money went to (GET /bank_accounts)");
      needs({"amount"}, "is missing");
      needs({"date"}, "is missing");
    }
    return out;
  }

  std::string version_of(const std::string&, std::string_view stored_body) const override {
    auto j = json::parse(stored_body, nullptr, false);
    if (!j.is_object()) return "";
    auto raw = j.find("raw");
    return raw == j.end() || !raw->is_object() ? "" : str(*raw, "updated_at");
  }

  push_step first_step(const push_item& item, bool resumed) const override {
    if (!item.vendor_id.empty())
      return !resumed && !item.base_version.empty() ? read_step(item, item.vendor_id)
                                                    : write_step(item, item.vendor_id);
    if (item.op == push_op::create && !resumed) return write_step(item, "");
    return lookup_step(item);
  }

  push_answer on_answer(const push_item& item, const push_step& step,
                        const http_response& r) const override {
    push_answer a;
    std::string what = "push of " + item.entity + " " + model::quote_text(item.external_id);
    if (r.status == 401 || r.status == 403 ||
        (r.status == 404 && r.body.find("X-Business") != std::string::npos)) {
      a.error = classify_response(r, what);
      if (r.status == 404) {
        a.error.category = error_category::config;
        a.error.specific_hint = "Sage knows no business " + model::quote_text(business_, 40) +
                                " for this token: check settings.business_id";
        a.error.fix_settings = {"settings.business_id"};
      }
      a.error.permanent = true;
      return a;
    }
    if (r.status == 0 || r.status == 429 || r.status == 408 || r.status >= 500) {
      a.error = classify_response(r, what);
      return a;
    }
    bool lookup = step.phase.rfind("lookup", 0) == 0;
    if (r.status == 404 && !lookup) return gone_at_vendor(item, "Sage");
    if (r.status < 200 || r.status >= 300) return refused(item, r, what);
    auto doc = json::parse(r.body, nullptr, false);
    const json* rec = nullptr;
    if (lookup) {
      if (doc.is_object())
        if (auto items = doc.find("$items"); items != doc.end() && items->is_array())
          for (const auto& x : *items)
            if (str(x, "reference") == item.external_id) {
              rec = &x;
              break;
            }
      // Sage's search matches other text too: a page without the record is not the end while
      // Sage names a next one (on the base URL's origin only: the request enforces it).
      if (!rec && doc.is_object() && doc.contains("$items")) {
        if (auto next = doc.find("$next"); next != doc.end() && next->is_string() &&
                                           !next->get_ref<const std::string&>().empty()) {
          // The page a lookup is on rides in its phase ("lookup", "lookup 2", …).
          int page = step.phase == "lookup" ? 1 : std::atoi(step.phase.c_str() + 7);
          if (page >= 50) {
            a.error = make_error_info(error_category::upstream,
                                      what + ": Sage's search for the reference runs past 50 "
                                             "pages; not creating it again without knowing");
            return a;
          }
          auto step_next = lookup_step(item);
          step_next.phase = "lookup " + std::to_string(page + 1);
          const auto& link = next->get_ref<const std::string&>();
          // `$next` is a path from the API's version root; an absolute link stays as it is.
          step_next.request.url =
              link.front() == '/' && link.rfind("//", 0) != 0 ? base_ + link : link;
          a.next = std::move(step_next);
          return a;
        }
        if (item.op == push_op::update) return not_at_vendor(item, "Sage");
        a.next = write_step(item, "");
        return a;
      }
    } else if (doc.is_object() && doc.contains("id")) {
      rec = &doc;
    }
    if (!rec) {
      a.error = make_error_info(
          error_category::upstream,
          what + ": Sage's answer has no " + model::sage_wrapper(item.entity) + " record");
      return a;
    }
    auto id = str(*rec, "id"), version = str(*rec, "updated_at");
    // Found by its reference: a create that had landed before is done, not made again.
    if (step.phase == "write" || (lookup && item.op == push_op::create)) {
      a.vendor_id = id;
      a.vendor_version = version;
      a.status = push_status::succeeded;
      return a;
    }
    // A resumed update may have changed the record itself: its version proves nothing then.
    bool resumed_lookup = lookup && item.status == push_status::sending;
    if (!item.base_version.empty() && !resumed_lookup &&
        !model::same_xero_version(item.base_version, version))
      return changed_at_vendor(item, "Sage", id, "updated_at", item.base_version, version,
                               c_.name);
    a.next = write_step(item, id);
    return a;
  }

 private:
  push_answer refused(const push_item& item, const http_response& r,
                      const std::string& what) const {
    std::vector<field_error> errors;
    for (auto& p : model::sage_validation_errors(r.body, item.entity))
      errors.push_back({p.field, p.message});
    return refused_by_vendor(item, "Sage", std::move(errors), classify_response(r, what).message);
  }

  std::string url(const push_item& item, const std::string& id) const {
    // The vendor's ids come from its answers: encoded, so none can reach another path.
    return base_ + "/" + model::sage_collection(item.entity) +
           (id.empty() ? "" : "/" + percent_encode(id));
  }

  http_request base() const { return vendor_base_request(c_, {{"X-Business", business_}}); }

  push_step lookup_step(const push_item& item) const {
    push_step s{"lookup", false, base()};
    boost::urls::url u(url(item, ""));
    // Sage's search matches references among other text: the answer is filtered exactly.
    u.params().append({"search", item.external_id});
    u.params().append({"attributes", "all"});
    u.params().append({"items_per_page", "200"});
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
    s.request.method = id.empty() ? "POST" : "PUT";
    s.request.url = url(item, id);
    s.request.headers.emplace_back("Content-Type", "application/json");
    s.request.body =
        item.entity == "customer"  ? model::sage_contact_body(item.fields, item.external_id)
        : item.entity == "invoice" ? model::sage_invoice_body(item.fields, item.external_id)
                                   : model::sage_payment_body(item.fields, item.external_id);
    return s;
  }

  const integration_config& c_;
  std::string business_, base_;
};

}  // namespace

std::unique_ptr<push_writer> make_sage_writer(const integration_config& config) {
  return std::make_unique<sage_writer>(config);
}

}  // namespace ledgersync
