#include "model/push_sage.hpp"

#include <cctype>

#include "model/push_xero.hpp"

namespace ledgersync::model {

using nlohmann::json;

namespace {

std::string text(const json& fields, const char* key) {
  auto v = fields.find(key);
  return v != fields.end() && v->is_string() ? v->get<std::string>() : std::string();
}

void put(json& out, const char* vendor_key, const json& fields, const char* key) {
  if (auto v = text(fields, key); !v.empty()) out[vendor_key] = v;
}

}  // namespace

std::string sage_collection(const std::string& entity) {
  return entity == "customer"  ? "contacts"
         : entity == "invoice" ? "sales_invoices"
         : entity == "payment" ? "contact_payments"
                               : "";
}

std::string sage_wrapper(const std::string& entity) {
  return entity == "customer"  ? "contact"
         : entity == "invoice" ? "sales_invoice"
         : entity == "payment" ? "contact_payment"
                               : "";
}

std::string sage_contact_body(const json& fields, const std::string& external_id) {
  json c = json::object();
  c["contact_type_ids"] = json::array({"CUSTOMER"});
  put(c, "name", fields, "name");
  c["reference"] = external_id;
  put(c, "tax_number", fields, "tax_number");
  put(c, "currency_id", fields, "currency");
  // Sage keeps email and telephone on the contact's main person.
  json person = json::object();
  put(person, "email", fields, "email");
  put(person, "telephone", fields, "phone");
  if (!person.empty()) {
    person["is_main_contact"] = true;
    c["main_contact_person"] = std::move(person);
  }
  return dump_exact(json{{"contact", c}});
}

std::string sage_invoice_body(const json& fields, const std::string& external_id) {
  json inv = json::object();
  put(inv, "contact_id", fields, "customer_id");
  put(inv, "date", fields, "issue_date");
  put(inv, "due_date", fields, "due_date");
  inv["reference"] = external_id;
  put(inv, "currency_id", fields, "currency");
  if (auto l = fields.find("lines"); l != fields.end() && l->is_array()) {
    json lines = json::array();
    for (const auto& line : *l) {
      json x = json::object();
      put(x, "description", line, "description");
      put(x, "ledger_account_id", line, "account_code");
      x["quantity"] = exact_decimal_field(line, "quantity", "1");
      x["unit_price"] = exact_decimal_field(line, "unit_price");
      put(x, "tax_rate_id", line, "tax_code");
      put(x, "product_id", line, "item_code");
      lines.push_back(std::move(x));
    }
    inv["invoice_lines"] = std::move(lines);
  }
  return dump_exact(json{{"sales_invoice", inv}});
}

std::string sage_payment_body(const json& fields, const std::string& external_id) {
  json p = json::object();
  auto amount = text(fields, "amount");
  bool refund = !amount.empty() && amount[0] == '-';
  p["transaction_type_id"] = refund ? "CUSTOMER_REFUND" : "CUSTOMER_RECEIPT";
  put(p, "contact_id", fields, "customer_id");
  put(p, "bank_account_id", fields, "account");
  put(p, "date", fields, "date");
  put(p, "currency_id", fields, "currency");
  p["reference"] = external_id;
  if (!amount.empty()) {
    // Sage takes a refund as a positive amount of type CUSTOMER_REFUND.
    auto positive = refund ? amount.substr(1) : amount;
    p["total_amount"] = exact_decimal_field(json{{"a", positive}}, "a");
    if (auto inv = text(fields, "invoice_id"); !inv.empty())
      p["allocated_artefacts"] = json::array(
          {{{"artefact_id", inv}, {"amount", exact_decimal_field(json{{"a", positive}}, "a")}}});
  }
  return dump_exact(json{{"contact_payment", p}});
}

std::string sage_field_of_source(const std::string& source, const std::string& entity) {
  std::string s = source;
  // "sales_invoice.contact_id" and "contact_id" alike.
  if (auto w = sage_wrapper(entity); s.rfind(w + ".", 0) == 0) s = s.substr(w.size() + 1);
  if (entity == "invoice" && s.rfind("invoice_lines", 0) == 0) {
    size_t i = std::string("invoice_lines").size();
    std::string n;
    if (i < s.size() && (s[i] == '[' || s[i] == '/' || s[i] == '.')) ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) n += s[i++];
    if (i < s.size() && s[i] == ']') ++i;
    if (i < s.size() && (s[i] == '.' || s[i] == '/')) ++i;
    std::string rest = s.substr(i), at = "lines/" + (n.empty() ? "0" : n);
    if (rest.rfind("ledger_account", 0) == 0) return at + "/account_code";
    if (rest.rfind("tax_rate", 0) == 0) return at + "/tax_code";
    if (rest.rfind("product", 0) == 0) return at + "/item_code";
    if (rest == "description" || rest == "quantity" || rest == "unit_price") return at + "/" + rest;
    return n.empty() ? "lines" : at;
  }
  if (s == "reference") return "external_id";
  if (s == "currency_id" || s == "currency") return "currency";
  if (entity == "customer") {
    if (s == "name" || s == "tax_number") return s;
    if (s.find("email") != std::string::npos) return "email";
    if (s.find("telephone") != std::string::npos) return "phone";
    return "";
  }
  if (s == "contact_id" || s == "contact") return "customer_id";
  if (entity == "invoice") {
    if (s == "date") return "issue_date";
    if (s == "due_date") return "due_date";
    return "";
  }
  if (s == "date") return "date";
  if (s == "total_amount") return "amount";
  if (s == "bank_account_id" || s == "bank_account") return "account";
  if (s.find("allocated_artefacts") != std::string::npos)
    return s.find("amount") != std::string::npos ? "amount" : "invoice_id";
  return "";
}

std::vector<problem> sage_validation_errors(std::string_view body, const std::string& entity) {
  std::vector<problem> out;
  auto j = json::parse(body, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    auto msg = text(e, "$message");
    if (msg.empty()) msg = text(e, "$dataCode");
    out.push_back({sage_field_of_source(text(e, "$source"), entity), msg});
  }
  return out;
}

}  // namespace ledgersync::model
