#include "model/map_quickbooks.hpp"

namespace ledgersync::model {
namespace {

using nlohmann::json;

void currency_or_home(record_builder& b, const json& j, const quickbooks_context& ctx) {
  if (const json* c = at(j, "/CurrencyRef/value")) return b.set("currency", c);
  if (!ctx.home_currency.empty()) {
    json home = ctx.home_currency;
    b.set("currency", &home);
  }
}

// Starts a record: id, tombstone when CDC says Deleted, updated_at.
record_builder start(std::string_view entity, const char* source, std::string_view text,
                     const json& j) {
  record_builder b(entity, source, text, j);
  b.id(text_at(j, "/Id"));
  b.deleted(text_at(j, "/status") == "Deleted");
  b.set("updated_at", at(j, "/MetaData/LastUpdatedTime"));
  return b;
}

}  // namespace

mapped map_quickbooks_customer(std::string_view text, const quickbooks_context& ctx) {
  return map_json_record("customer", "quickbooks:Customer", text, [&](const json& j) {
    auto b = start("customer", "quickbooks:Customer", text, j);
    b.set("name", at(j, "/DisplayName"));
    b.set("email", at(j, "/PrimaryEmailAddr/Address"));
    b.set("phone", at(j, "/PrimaryPhone/FreeFormNumber"));
    b.set("tax_number", at(j, "/PrimaryTaxIdentifier"));
    currency_or_home(b, j, ctx);
    if (!b.currency().empty()) b.set("balance", at(j, "/Balance"));
    if (const json* active = at(j, "/Active"); active && active->is_boolean()) {
      b.set_text("status", active->get<bool>() ? "active" : "archived");
    }
    return b.finish();
  });
}

mapped map_quickbooks_invoice(std::string_view text, const quickbooks_context& ctx) {
  return map_json_record("invoice", "quickbooks:Invoice", text, [&](const json& j) {
    auto b = start("invoice", "quickbooks:Invoice", text, j);
    b.set("customer_id", at(j, "/CustomerRef/value"));
    b.set("number", at(j, "/DocNumber"));
    b.set_text("kind", "receivable");
    currency_or_home(b, j, ctx);
    b.set("tax_total", at(j, "/TxnTaxDetail/TotalTax"));
    b.set("total", at(j, "/TotalAmt"));
    b.set("amount_due", at(j, "/Balance"));
    b.set("issue_date", at(j, "/TxnDate"));
    b.set("due_date", at(j, "/DueDate"));
    // QuickBooks has no invoice status: the balance says whether it is paid.
    if (const json* balance = at(j, "/Balance")) {
      auto d = json_decimal(*balance);
      if (d.ok()) b.set_text("status", d->zero() ? "paid" : "open");
    }
    b.set("reference", at(j, "/PrivateNote"));
    return b.finish();
  });
}

mapped map_quickbooks_payment(std::string_view text, const quickbooks_context& ctx) {
  return map_json_record("payment", "quickbooks:Payment", text, [&](const json& j) {
    auto b = start("payment", "quickbooks:Payment", text, j);
    currency_or_home(b, j, ctx);
    b.set("amount", at(j, "/TotalAmt"));
    b.set("date", at(j, "/TxnDate"));
    // The invoice paid, when the payment is linked to exactly one.
    std::string invoice;
    int linked = 0;
    if (const json* lines = at(j, "/Line"); lines && lines->is_array()) {
      for (const auto& line : *lines) {
        if (const json* txns = at(line, "/LinkedTxn"); txns && txns->is_array()) {
          for (const auto& t : *txns) {
            if (text_at(t, "/TxnType") == "Invoice") invoice = text_at(t, "/TxnId"), ++linked;
          }
        }
      }
    }
    if (linked == 1) b.set_text("invoice_id", invoice);
    b.set("customer_id", at(j, "/CustomerRef/value"));
    b.set("reference", at(j, "/PaymentRefNum"));
    if (text_at(j, "/status") != "Deleted") b.set_text("status", "succeeded");
    return b.finish();
  });
}

}  // namespace ledgersync::model
