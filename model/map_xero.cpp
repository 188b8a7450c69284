#include "model/map_xero.hpp"

namespace ledgersync::model {
namespace {

using nlohmann::json;

std::string invoice_status(const std::string& s) {
  if (s == "DRAFT" || s == "SUBMITTED") return "draft";  // SUBMITTED: awaiting approval
  if (s == "AUTHORISED") return "open";
  if (s == "PAID") return "paid";
  if (s == "VOIDED" || s == "DELETED") return "void";
  return s;  // unknown: the validator names it
}

// Account Type -> class, for bodies without Class (the spec's own example has none).
std::string account_class(const std::string& type) {
  static const std::pair<const char*, const char*> table[] = {
      {"BANK", "asset"},
      {"CURRENT", "asset"},
      {"FIXED", "asset"},
      {"INVENTORY", "asset"},
      {"NONCURRENT", "asset"},
      {"PREPAYMENT", "asset"},
      {"CURRLIAB", "liability"},
      {"LIABILITY", "liability"},
      {"TERMLIAB", "liability"},
      {"PAYGLIABILITY", "liability"},
      {"SUPERANNUATIONLIABILITY", "liability"},
      {"WAGESPAYABLELIABILITY", "liability"},
      {"EQUITY", "equity"},
      {"REVENUE", "revenue"},
      {"SALES", "revenue"},
      {"OTHERINCOME", "revenue"},
      {"EXPENSE", "expense"},
      {"DIRECTCOSTS", "expense"},
      {"OVERHEADS", "expense"},
      {"DEPRECIATN", "expense"},
      {"SUPERANNUATIONEXPENSE", "expense"},
      {"WAGESEXPENSE", "expense"}};
  for (const auto& [t, c] : table) {
    if (type == t) return c;
  }
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

void currency_or_base(record_builder& b, const json* code, const xero_context& ctx) {
  if (code) return b.set("currency", code);
  if (!ctx.base_currency.empty()) {
    json base = ctx.base_currency;
    b.set("currency", &base);
  }
}

}  // namespace

mapped map_xero_invoice(std::string_view text, const xero_context& ctx) {
  return map_json_record("invoice", "xero:Invoice", text, [&](const json& j) {
    record_builder b("invoice", "xero:Invoice", text, j);
    b.id(text_at(j, "/InvoiceID"));
    std::string status = text_at(j, "/Status");
    b.deleted(status == "DELETED" || status == "VOIDED");
    b.set("customer_id", at(j, "/Contact/ContactID"));
    b.set("number", at(j, "/InvoiceNumber"));
    std::string type = text_at(j, "/Type");
    if (type == "ACCREC") b.set_text("kind", "receivable");
    if (type == "ACCPAY") b.set_text("kind", "payable");
    currency_or_base(b, at(j, "/CurrencyCode"), ctx);
    b.set("subtotal", at(j, "/SubTotal"));
    b.set("tax_total", at(j, "/TotalTax"));
    b.set("total", at(j, "/Total"));
    b.set("amount_paid", at(j, "/AmountPaid"));
    b.set("amount_due", at(j, "/AmountDue"));
    b.set("issue_date", at(j, "/Date"));
    b.set("due_date", at(j, "/DueDate"));
    if (!status.empty()) b.set_text("status", invoice_status(status));
    b.set("reference", at(j, "/Reference"));
    b.set("updated_at", at(j, "/UpdatedDateUTC"));
    return b.finish();
  });
}

mapped map_xero_contact(std::string_view text, const xero_context&) {
  return map_json_record("customer", "xero:Contact", text, [&](const json& j) {
    record_builder b("customer", "xero:Contact", text, j);
    b.id(text_at(j, "/ContactID"));
    b.set("name", at(j, "/Name"));
    b.set("email", at(j, "/EmailAddress"));
    if (const json* phones = at(j, "/Phones"); phones && phones->is_array()) {
      for (const auto& p : *phones) {
        if (text_at(p, "/PhoneType") != "DEFAULT") continue;
        std::string number;
        for (const char* part : {"/PhoneCountryCode", "/PhoneAreaCode", "/PhoneNumber"}) {
          std::string s = text_at(p, part);
          if (!s.empty()) number += (number.empty() ? "" : " ") + s;
        }
        b.set_text("phone", number);
      }
    }
    b.set("tax_number", at(j, "/TaxNumber"));
    b.set("currency", at(j, "/DefaultCurrency"));
    if (!b.currency().empty()) b.set("balance", at(j, "/Balances/AccountsReceivable/Outstanding"));
    std::string status = text_at(j, "/ContactStatus");
    if (!status.empty()) b.set_text("status", status == "ACTIVE" ? "active" : "archived");
    b.set("updated_at", at(j, "/UpdatedDateUTC"));
    return b.finish();
  });
}

mapped map_xero_payment(std::string_view text, const xero_context& ctx) {
  return map_json_record("payment", "xero:Payment", text, [&](const json& j) {
    record_builder b("payment", "xero:Payment", text, j);
    b.id(text_at(j, "/PaymentID"));
    std::string status = text_at(j, "/Status");
    b.deleted(status == "DELETED");
    const json* code = at(j, "/Invoice/CurrencyCode");
    if (!code) code = at(j, "/CreditNote/CurrencyCode");
    currency_or_base(b, code, ctx);
    // A refund to a customer (of a credit note, an overpayment or a prepayment) is money out.
    std::string type = text_at(j, "/PaymentType");
    bool refund = type == "ARCREDITPAYMENT" || type == "AROVERPAYMENTPAYMENT" ||
                  type == "ARPREPAYMENTPAYMENT";
    b.set("amount", at(j, "/Amount"), refund);
    b.set("date", at(j, "/Date"));
    b.set("invoice_id", at(j, "/Invoice/InvoiceID"));
    b.set("customer_id", at(j, "/Invoice/Contact/ContactID"));
    b.set("reference", at(j, "/Reference"));
    if (status == "AUTHORISED") b.set_text("status", "succeeded");
    if (status == "DELETED") b.set_text("status", "void");
    b.set("updated_at", at(j, "/UpdatedDateUTC"));
    return b.finish();
  });
}

mapped map_xero_bank_transaction(std::string_view text, const xero_context& ctx) {
  return map_json_record("bank_transaction", "xero:BankTransaction", text, [&](const json& j) {
    record_builder b("bank_transaction", "xero:BankTransaction", text, j);
    b.id(text_at(j, "/BankTransactionID"));
    std::string status = text_at(j, "/Status");
    b.deleted(status == "DELETED" || status == "VOIDED");
    b.set("account", at(j, "/BankAccount/AccountID"));
    currency_or_base(b, at(j, "/CurrencyCode"), ctx);
    // RECEIVE* is money in, SPEND* money out.
    b.set("amount", at(j, "/Total"), text_at(j, "/Type").starts_with("SPEND"));
    b.set("booking_date", at(j, "/Date"));
    b.set_text("status", "booked");
    b.set("reference", at(j, "/Reference"));
    b.set("counterparty", at(j, "/Contact/Name"));
    b.set("type_code", at(j, "/Type"));
    return b.finish();
  });
}

mapped map_xero_account(std::string_view text, const xero_context&) {
  return map_json_record("gl_account", "xero:Account", text, [&](const json& j) {
    record_builder b("gl_account", "xero:Account", text, j);
    b.id(text_at(j, "/AccountID"));
    std::string status = text_at(j, "/Status");
    b.deleted(status == "DELETED");
    b.set("code", at(j, "/Code"));
    b.set("name", at(j, "/Name"));
    std::string cls = lower(text_at(j, "/Class"));
    if (cls.empty()) cls = account_class(text_at(j, "/Type"));
    b.set_text("class", cls);
    b.set("type", at(j, "/Type"));
    b.set("currency", at(j, "/CurrencyCode"));
    if (status == "ACTIVE") b.set_text("status", "active");
    if (status == "ARCHIVED") b.set_text("status", "archived");
    b.set("updated_at", at(j, "/UpdatedDateUTC"));
    return b.finish();
  });
}

}  // namespace ledgersync::model
