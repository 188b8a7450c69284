#include "model/entities.hpp"

#include <algorithm>
#include <set>

#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/decimal.hpp"

namespace ledgersync::model {
namespace {

using ft = field_type;

// clang-format off
constexpr field_spec customer_fields[] = {
  {"id", ft::id, true, "The vendor's identifier of the customer (or contact)."},
  {"name", ft::text, true, "Name of the person or organisation."},
  {"email", ft::text, false, "Primary email address."},
  {"phone", ft::text, false, "Primary phone number, as the vendor wrote it."},
  {"tax_number", ft::text, false, "VAT/GST/tax registration number."},
  {"currency", ft::currency, false, "The customer's default currency."},
  {"balance", ft::amount, false, "What the customer owes (positive) or is owed, in `currency`."},
  {"status", ft::choice, false, "Whether the vendor still lists the customer.", "active|archived"},
  {"updated_at", ft::datetime, false, "When the vendor last changed the record."},
};
constexpr field_spec invoice_fields[] = {
  {"id", ft::id, true, "The vendor's identifier of the invoice."},
  {"customer_id", ft::id, true, "The customer (`customer.id`) billed."},
  {"number", ft::text, true, "The invoice number printed on the document."},
  {"kind", ft::choice, false, "A sales invoice (receivable) or a supplier bill (payable).",
   "receivable|payable"},
  {"currency", ft::currency, true, "Currency of every amount on the invoice."},
  {"subtotal", ft::amount, false, "Total before tax."},
  {"tax_total", ft::amount, false, "Tax."},
  {"total", ft::amount, true, "Total including tax."},
  {"amount_paid", ft::amount, false, "Paid so far."},
  {"amount_due", ft::amount, true, "Still to pay (0 when paid)."},
  {"issue_date", ft::date, true, "Date on the invoice."},
  {"due_date", ft::date, true, "Date payment is due."},
  {"status", ft::choice, true, "Where the invoice is in its life.",
   "draft|open|paid|void|uncollectible"},
  {"reference", ft::text, false, "The customer's or vendor's reference."},
  {"updated_at", ft::datetime, false, "When the vendor last changed the record."},
};
constexpr field_spec payment_fields[] = {
  {"id", ft::id, true, "The vendor's identifier of the payment."},
  {"amount", ft::amount, true, "Amount paid; negative for a refund."},
  {"currency", ft::currency, true, "Currency of `amount`."},
  {"date", ft::date, true, "Date the payment was made."},
  {"invoice_id", ft::id, false, "The invoice (`invoice.id`) it pays, when one."},
  {"customer_id", ft::id, false, "The customer (`customer.id`) who paid."},
  {"reference", ft::text, false, "Payment reference."},
  {"status", ft::choice, false, "Outcome of the payment.", "pending|succeeded|failed|void"},
  {"updated_at", ft::datetime, false, "When the vendor last changed the record."},
};
constexpr field_spec bank_transaction_fields[] = {
  {"id", ft::id, true, "Stable identifier: the vendor's, or derived from the statement entry."},
  {"account", ft::text, true, "The bank account: IBAN, or the vendor's account id."},
  {"amount", ft::amount, true, "Signed: positive is money in (credit), negative money out (debit)."},
  {"currency", ft::currency, true, "Currency of `amount`."},
  {"booking_date", ft::date, true, "Date the bank booked the entry."},
  {"value_date", ft::date, false, "Date the money counts from for interest."},
  {"status", ft::choice, false, "Booked, pending or information only.", "booked|pending|info"},
  {"reversal", ft::boolean, false, "True when the entry reverses an earlier one."},
  {"bank_reference", ft::text, false, "The bank's own reference of the entry."},
  {"reference", ft::text, false, "The account owner's (end-to-end or customer) reference."},
  {"description", ft::text, false, "Remittance information: the text the payer wrote."},
  {"counterparty", ft::text, false, "Name or account of the other side."},
  {"type_code", ft::text, false, "The bank's transaction type code (BkTxCd, MT940 type)."},
};
constexpr field_spec gl_account_fields[] = {
  {"id", ft::id, true, "The vendor's identifier of the ledger account."},
  {"code", ft::text, false, "Account code in the chart of accounts."},
  {"name", ft::text, true, "Account name."},
  {"class", ft::choice, true, "Accounting class.", "asset|liability|equity|revenue|expense"},
  {"type", ft::text, false, "The vendor's finer account type (BANK, CURRLIAB, ...)."},
  {"currency", ft::currency, false, "Currency of a bank or foreign-currency account."},
  {"status", ft::choice, false, "Whether it can be posted to.", "active|archived"},
  {"updated_at", ft::datetime, false, "When the vendor last changed the record."},
};
constexpr field_spec gl_transaction_fields[] = {
  {"id", ft::id, true, "The vendor's identifier of the journal line."},
  {"account_id", ft::id, true, "The ledger account (`gl_account.id`) posted to."},
  {"date", ft::date, true, "Posting date."},
  {"amount", ft::amount, true, "Signed: positive debits the account, negative credits it."},
  {"currency", ft::currency, true, "Currency of `amount`."},
  {"journal_id", ft::id, false, "The journal the line belongs to."},
  {"description", ft::text, false, "Narration."},
  {"source_id", ft::id, false, "The document (invoice, payment) that caused it."},
};
constexpr field_spec fx_rate_fields[] = {
  {"id", ft::id, true, "`SOURCE:DATE:BASE:QUOTE`, stable across deliveries."},
  {"base", ft::currency, true, "Currency of one unit (EUR for the ECB)."},
  {"quote", ft::currency, true, "Currency the rate is expressed in."},
  {"rate", ft::rate, true, "Units of `quote` per one `base`, exactly as published."},
  {"date", ft::date, true, "Day the rate applies to."},
  {"source", ft::text, false, "Publisher (`ecb`)."},
};
constexpr field_spec balance_fields[] = {
  {"id", ft::id, true, "Stable identifier derived from account, type and date."},
  {"account", ft::text, true, "The bank account: IBAN, or the vendor's account id."},
  {"type", ft::choice, true, "Which balance.",
   "opening|closing|interim_opening|interim_closing|available|forward_available|other"},
  {"amount", ft::amount, true, "Signed: negative is a debit (overdrawn) balance."},
  {"currency", ft::currency, true, "Currency of `amount`."},
  {"date", ft::date, true, "Day the balance is struck."},
  {"statement_id", ft::text, false, "The statement it came from."},
};

constexpr entity_spec table[] = {
  {"customer", "Someone the business sells to (Xero contact, Stripe customer, ...).",
   customer_fields},
  {"invoice", "A sales invoice or supplier bill.", invoice_fields},
  {"payment", "Money received or paid, usually against an invoice.", payment_fields},
  {"bank_transaction", "One entry on a bank statement or bank feed.", bank_transaction_fields},
  {"gl_account", "An account in the general ledger's chart of accounts.", gl_account_fields},
  {"gl_transaction", "One line of a journal posted to the general ledger.",
   gl_transaction_fields},
  {"fx_rate", "An exchange rate on a day.", fx_rate_fields},
  {"balance", "A bank account's balance on a day, from a statement.", balance_fields},
};
// clang-format on

bool in_choices(std::string_view choices, std::string_view v) {
  size_t start = 0;
  while (start <= choices.size()) {
    size_t bar = choices.find('|', start);
    if (bar == std::string_view::npos) bar = choices.size();
    if (choices.substr(start, bar - start) == v) return true;
    start = bar + 1;
  }
  return false;
}

// The message for a value of the wrong shape, or empty when it fits.
std::string check_value(const field_spec& f, const nlohmann::json& v, const std::string* currency) {
  if (f.type == ft::boolean) return v.is_boolean() ? "" : "must be true or false";
  if (!v.is_string()) return "must be a string";
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty()) return "is empty";
  switch (f.type) {
    case ft::id:
    case ft::text:
      return "";
    case ft::amount: {
      auto d = decimal::parse(s);
      if (!d.ok()) return d.error;
      if (!currency) return "";
      auto c = to_currency_amount(*d, *currency);
      if (!c.ok()) return c.error;
      if (c->to_string() != s)
        return quote_text(s) + " is not written at " + *currency + "'s exponent";
      return "";
    }
    case ft::rate: {
      auto d = decimal::parse(s);
      if (!d.ok()) return d.error;
      if (d->negative() || d->zero()) return "must be positive";
      return "";
    }
    case ft::currency:
      return find_currency(s) ? "" : quote_text(s) + " is not an ISO 4217 currency code";
    case ft::date:
      return is_canonical_date(s) ? "" : quote_text(s) + " is not a YYYY-MM-DD date";
    case ft::datetime:
      return is_canonical_datetime(s) ? ""
                                      : quote_text(s) + " is not a UTC YYYY-MM-DDTHH:MM:SSZ time";
    case ft::choice:
      return in_choices(f.choices, s) ? ""
                                      : quote_text(s) + " is not one of " + std::string(f.choices);
    case ft::boolean:
      break;
  }
  return "";
}

}  // namespace

std::string_view field_type_name(field_type t) {
  switch (t) {
    case ft::id:
      return "id";
    case ft::text:
      return "text";
    case ft::amount:
      return "amount";
    case ft::rate:
      return "rate";
    case ft::currency:
      return "currency";
    case ft::date:
      return "date";
    case ft::datetime:
      return "datetime";
    case ft::boolean:
      return "boolean";
    case ft::choice:
      return "choice";
  }
  return "?";
}

std::span<const entity_spec> entities() {
  return table;
}

const entity_spec* find_entity(std::string_view name) {
  for (const auto& e : table) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string to_json_text(const canonical_record& r) {
  nlohmann::json head = {{"entity", r.entity},
                         {"id", r.id},
                         {"deleted", r.deleted},
                         {"source", r.source},
                         {"fields", r.fields}};
  // Replace, never throw: a record's text comes from outside (mappers and parsers keep only
  // UTF-8, but a record that could not be parsed carries its bytes as they were).
  constexpr auto replace = nlohmann::json::error_handler_t::replace;
  std::string out = head.dump(-1, ' ', false, replace);
  out.pop_back();  // the closing brace: raw goes last
  out += ",\"raw\":";
  out += r.raw_is_json ? r.raw : nlohmann::json(r.raw).dump(-1, ' ', false, replace);
  out += "}";
  return out;
}

std::vector<problem> validate(const canonical_record& r) {
  std::vector<problem> out;
  const entity_spec* spec = find_entity(r.entity);
  if (!spec) return {{"entity", quote_text(r.entity) + " is not a canonical entity"}};
  if (r.id.empty()) out.push_back({"id", "is missing"});
  if (!r.fields.is_object()) {
    out.push_back({"fields", "must be an object"});
    return out;
  }
  std::string currency;
  if (auto it = r.fields.find("currency");
      it != r.fields.end() && it->is_string() && find_currency(it->get_ref<const std::string&>())) {
    currency = it->get<std::string>();
  }
  std::set<std::string_view> known;
  for (const auto& f : spec->fields) {
    known.insert(f.name);
    auto it = r.fields.find(f.name);
    if (it == r.fields.end() || it->is_null()) {
      // A tombstone says only which record went away.
      if (f.required && !r.deleted && f.name != "id")
        out.push_back({std::string(f.name), "is missing"});
      continue;
    }
    std::string why = check_value(f, *it, currency.empty() ? nullptr : &currency);
    if (!why.empty()) out.push_back({std::string(f.name), why});
  }
  if (auto it = r.fields.find("id"); it != r.fields.end() && it->is_string() && *it != r.id) {
    out.push_back({"id", "differs from the record's id"});
  }
  for (const auto& [k, v] : r.fields.items()) {
    if (!known.count(k)) out.push_back({k, "is not a field of " + r.entity});
  }
  return out;
}

std::string describe(const std::vector<problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.field + ": " + p.message;
  }
  return out;
}

std::string render_entity_tables() {
  std::string out;
  for (const auto& e : table) {
    out += "### " + std::string(e.name) + "\n\n" + std::string(e.meaning) + "\n\n";
    out += "| field | type | required | meaning |\n|---|---|---|---|\n";
    for (const auto& f : e.fields) {
      std::string type(field_type_name(f.type));
      if (f.type == ft::choice) {
        type = std::string(f.choices);
        for (size_t p = 0; (p = type.find('|', p)) != std::string::npos; p += 3) {
          type.replace(p, 1, " \\| ");
        }
        type = "one of " + type;
      }
      out += "| `" + std::string(f.name) + "` | " + type + " | " + (f.required ? "yes" : "no") +
             " | " + std::string(f.meaning) + " |\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace ledgersync::model
