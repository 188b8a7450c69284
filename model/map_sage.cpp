#include "model/map_sage.hpp"

namespace ledgersync::model {
namespace {

using nlohmann::json;

void currency_or_base(record_builder& b, const json& j, const sage_context& ctx) {
  if (const json* c = at(j, "/currency/id")) return b.set("currency", c);
  if (!ctx.base_currency.empty()) {
    json base = ctx.base_currency;
    b.set("currency", &base);
  }
}

std::string invoice_status(const std::string& id) {
  if (id == "DRAFT" || id == "PRO_FORMA") return "draft";
  if (id == "UNPAID" || id == "PART_PAID" || id == "DISPUTED" || id == "SCHEDULED_FOR_PAYMENT") {
    return "open";
  }
  if (id == "PAID") return "paid";
  if (id == "VOID") return "void";
  return id;
}

std::string ledger_class(const std::string& type) {
  auto has = [&](const char* s) { return type.find(s) != std::string::npos; };
  if (has("ASSET") || type == "BANK") return "asset";
  if (has("LIABILIT")) return "liability";
  if (has("EQUITY")) return "equity";
  if (type == "SALES" || has("INCOME")) return "revenue";
  if (has("EXPENSE") || type == "OVERHEADS" || type == "DEPRECIATION" || has("COST")) {
    return "expense";
  }
  return {};
}

}  // namespace

mapped map_sage_contact(std::string_view text, const sage_context&) {
  return map_json_record("customer", "sage:contact", text, [&](const json& j) {
    record_builder b("customer", "sage:contact", text, j);
    b.id(text_at(j, "/id"));
    b.set("name", at(j, "/name"));
    const json* email = at(j, "/email");
    b.set("email", email ? email : at(j, "/main_contact_person/email"));
    const json* phone = at(j, "/main_contact_person/telephone");
    b.set("phone", phone ? phone : at(j, "/main_contact_person/mobile"));
    b.set("tax_number", at(j, "/tax_number"));
    b.set("currency", at(j, "/currency/id"));
    if (!b.currency().empty()) b.set("balance", at(j, "/balance"));
    b.set("updated_at", at(j, "/updated_at"));
    return b.finish();
  });
}

mapped map_sage_sales_invoice(std::string_view text, const sage_context& ctx) {
  return map_json_record("invoice", "sage:sales_invoice", text, [&](const json& j) {
    record_builder b("invoice", "sage:sales_invoice", text, j);
    b.id(text_at(j, "/id"));
    b.set("customer_id", at(j, "/contact/id"));
    b.set("number", at(j, "/invoice_number"));
    b.set_text("kind", "receivable");
    currency_or_base(b, j, ctx);
    b.set("subtotal", at(j, "/net_amount"));
    b.set("tax_total", at(j, "/tax_amount"));
    b.set("total", at(j, "/total_amount"));
    b.set("amount_paid", at(j, "/total_paid"));
    b.set("amount_due", at(j, "/outstanding_amount"));
    b.set("issue_date", at(j, "/date"));
    b.set("due_date", at(j, "/due_date"));
    std::string status = text_at(j, "/status/id");
    if (!status.empty()) b.set_text("status", invoice_status(status));
    b.set("reference", at(j, "/reference"));
    b.set("updated_at", at(j, "/updated_at"));
    return b.finish();
  });
}

mapped map_sage_contact_payment(std::string_view text, const sage_context& ctx) {
  return map_json_record("payment", "sage:contact_payment", text, [&](const json& j) {
    record_builder b("payment", "sage:contact_payment", text, j);
    b.id(text_at(j, "/id"));
    currency_or_base(b, j, ctx);
    b.set("amount", at(j, "/total_amount"), text_at(j, "/transaction_type/id").ends_with("REFUND"));
    b.set("date", at(j, "/date"));
    // A payment allocated to exactly one invoice names it; several stay in raw.
    if (const json* alloc = at(j, "/allocated_artefacts");
        alloc && alloc->is_array() && alloc->size() == 1) {
      b.set("invoice_id", at((*alloc)[0], "/artefact/id"));
    }
    b.set("customer_id", at(j, "/contact/id"));
    b.set("reference", at(j, "/reference"));
    b.set_text("status", "succeeded");
    b.set("updated_at", at(j, "/updated_at"));
    return b.finish();
  });
}

mapped map_sage_ledger_account(std::string_view text, const sage_context&) {
  return map_json_record("gl_account", "sage:ledger_account", text, [&](const json& j) {
    record_builder b("gl_account", "sage:ledger_account", text, j);
    b.id(text_at(j, "/id"));
    b.set("code", at(j, "/nominal_code"));
    b.set("name", at(j, "/name"));
    std::string type = text_at(j, "/ledger_account_type/id");
    b.set_text("class", ledger_class(type));
    b.set_text("type", type);
    if (const json* v = at(j, "/visible_in_chart_of_accounts"); v && v->is_boolean()) {
      b.set_text("status", v->get<bool>() ? "active" : "archived");
    }
    b.set("updated_at", at(j, "/updated_at"));
    return b.finish();
  });
}

mapped map_sage_deleted(std::string_view text, std::string_view entity) {
  std::string source = "sage:deleted";
  return map_json_record(entity, source, text, [&](const json& j) {
    record_builder b(entity, source, text, j);
    b.id(text_at(j, "/id"));
    b.deleted();
    return b.finish();
  });
}

}  // namespace ledgersync::model
