#include "model/map_stripe.hpp"

namespace ledgersync::model {
namespace {

using nlohmann::json;

bool flag(const json& j, std::string_view pointer) {
  const json* v = at(j, pointer);
  return v && v->is_boolean() && v->get<bool>();
}

std::string payment_status(const std::string& s) {
  if (s == "succeeded") return "succeeded";
  if (s == "failed") return "failed";
  if (s == "canceled") return "void";
  return s.empty() ? s : "pending";  // processing, requires_*: not settled yet
}

mapped map_customer(std::string_view text, const json& j) {
  record_builder b("customer", "stripe:customer", text, j);
  b.id(text_at(j, "/id"));
  b.deleted(flag(j, "/deleted"));
  b.set("name", at(j, "/name"));
  b.set("email", at(j, "/email"));
  b.set("phone", at(j, "/phone"));
  b.set("currency", at(j, "/currency"));
  // Stripe's balance is credit the customer holds (negative) or owes (positive) in `currency`.
  if (!b.currency().empty()) b.set_minor("balance", at(j, "/balance"));
  b.set_text("status", "active");
  return b.finish();
}

mapped map_charge(std::string_view text, const json& j) {
  record_builder b("payment", "stripe:charge", text, j);
  b.id(text_at(j, "/id"));
  b.set("currency", at(j, "/currency"));
  b.set_minor("amount", at(j, "/amount"));
  b.set_unix("date", at(j, "/created"));
  b.set("invoice_id", at(j, "/invoice"));
  b.set("customer_id", at(j, "/customer"));
  b.set("reference", at(j, "/description"));
  b.set_text("status", payment_status(text_at(j, "/status")));
  return b.finish();
}

mapped map_payment_intent(std::string_view text, const json& j) {
  record_builder b("payment", "stripe:payment_intent", text, j);
  b.id(text_at(j, "/id"));
  b.set("currency", at(j, "/currency"));
  // What was actually received once it succeeded; the amount asked for before.
  std::string status = text_at(j, "/status");
  b.set_minor("amount", at(j, status == "succeeded" ? "/amount_received" : "/amount"));
  b.set_unix("date", at(j, "/created"));
  b.set("invoice_id", at(j, "/invoice"));
  b.set("customer_id", at(j, "/customer"));
  b.set("reference", at(j, "/description"));
  b.set_text("status", payment_status(status));
  return b.finish();
}

mapped map_invoice(std::string_view text, const json& j) {
  record_builder b("invoice", "stripe:invoice", text, j);
  b.id(text_at(j, "/id"));
  b.deleted(flag(j, "/deleted"));
  b.set("customer_id", at(j, "/customer"));
  b.set("number", at(j, "/number"));  // null while a draft: the validator names it
  b.set_text("kind", "receivable");
  b.set("currency", at(j, "/currency"));
  b.set_minor("subtotal", at(j, "/subtotal"));
  if (const json* tax = at(j, "/tax")) b.set_minor("tax_total", tax);
  b.set_minor("total", at(j, "/total"));
  b.set_minor("amount_paid", at(j, "/amount_paid"));
  b.set_minor("amount_due", at(j, "/amount_remaining"));
  // The date it was finalised (effective_at) is the date on the document; created otherwise.
  b.set_unix("issue_date", at(j, at(j, "/effective_at") ? "/effective_at" : "/created"));
  b.set_unix("due_date", at(j, "/due_date"));
  b.set("status", at(j, "/status"));
  return b.finish();
}

mapped map_balance_transaction(std::string_view text, const json& j) {
  record_builder b("bank_transaction", "stripe:balance_transaction", text, j);
  b.id(text_at(j, "/id"));
  // The Stripe balance is the account: one per balance type (payments, issuing, ...).
  std::string type = text_at(j, "/balance_type");
  b.set_text("account", "stripe:" + (type.empty() ? std::string("payments") : type));
  b.set("currency", at(j, "/currency"));
  b.set_minor("amount", at(j, "/amount"));  // gross; fee and net stay in raw
  b.set_unix("booking_date", at(j, "/created"));
  b.set_unix("value_date", at(j, "/available_on"));
  std::string status = text_at(j, "/status");
  b.set_text("status", status == "available" ? "booked" : status.empty() ? "" : "pending");
  b.set("reference", at(j, "/source"));
  b.set("description", at(j, "/description"));
  b.set("type_code", at(j, "/type"));
  return b.finish();
}

mapped by_object(std::string_view text, const json& j) {
  std::string object = text_at(j, "/object");
  if (object == "customer") return map_customer(text, j);
  if (object == "charge") return map_charge(text, j);
  if (object == "payment_intent") return map_payment_intent(text, j);
  if (object == "invoice") return map_invoice(text, j);
  if (object == "balance_transaction") return map_balance_transaction(text, j);
  mapped m;
  m.record.source = "stripe:" + object;
  m.record.raw = text;
  m.record.raw_is_json = true;
  m.problems.push_back({"object", quote_text(object) + " is not a Stripe object mapped here"});
  return m;
}

}  // namespace

mapped map_stripe_customer(std::string_view t) {
  return map_json_record("customer", "stripe:customer", t,
                         [&](const json& j) { return map_customer(t, j); });
}
mapped map_stripe_charge(std::string_view t) {
  return map_json_record("payment", "stripe:charge", t,
                         [&](const json& j) { return map_charge(t, j); });
}
mapped map_stripe_payment_intent(std::string_view t) {
  return map_json_record("payment", "stripe:payment_intent", t,
                         [&](const json& j) { return map_payment_intent(t, j); });
}
mapped map_stripe_invoice(std::string_view t) {
  return map_json_record("invoice", "stripe:invoice", t,
                         [&](const json& j) { return map_invoice(t, j); });
}
mapped map_stripe_balance_transaction(std::string_view t) {
  return map_json_record("bank_transaction", "stripe:balance_transaction", t,
                         [&](const json& j) { return map_balance_transaction(t, j); });
}
mapped map_stripe_object(std::string_view t) {
  return map_json_record("", "stripe", t, [&](const json& j) { return by_object(t, j); });
}

mapped map_stripe_event(std::string_view t) {
  return map_json_record("", "stripe:event", t, [&](const json& j) {
    const json* object = at(j, "/data/object");
    if (!object || !object->is_object()) {
      mapped m;
      m.record.source = "stripe:event";
      m.record.raw = t;
      m.record.raw_is_json = true;
      m.problems.push_back({"data.object", "is missing"});
      return m;
    }
    // The object is re-serialised from the exact tree: its numbers are integers (Stripe sends
    // no fractions), so nothing is lost; the event's id and type go with it in raw.
    mapped m = by_object(object->dump(-1, ' ', false, json::error_handler_t::replace), *object);
    m.record.raw = t;
    if (text_at(j, "/type").ends_with(".deleted")) {
      m.record.deleted = true;
      std::erase_if(m.problems,
                    [](const problem& p) { return p.field != "id" && p.message == "is missing"; });
    }
    return m;
  });
}

}  // namespace ledgersync::model
