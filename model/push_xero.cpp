#include "model/push_xero.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "model/dates.hpp"
#include "model/decimal.hpp"

namespace ledgersync::model {

using nlohmann::json;

namespace {

// A control character no decimal or vendor text holds: marks the strings to splice.
constexpr char kMark = '\x1f';

std::string text(const json& fields, const char* key) {
  auto v = fields.find(key);
  return v != fields.end() && v->is_string() ? v->get<std::string>() : std::string();
}

void put(json& out, const char* vendor_key, const json& fields, const char* key) {
  if (auto v = text(fields, key); !v.empty()) out[vendor_key] = v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

json exact_number(const std::string& decimal_text) {
  return std::string(1, kMark) + decimal_text;
}

json exact_decimal_field(const json& fields, const char* key, const char* def) {
  auto v = text(fields, key);
  if (v.empty() && def) v = def;
  auto d = decimal::parse(v);
  // Pushed fields are checked before they are accepted; a bad one here is a bug, sent as text
  // so the vendor names it rather than us sending a number we made up.
  return d.ok() ? exact_number(d->to_string()) : json(v);
}

std::string dump_exact(const json& j) {
  std::string s = j.dump();
  static const std::string open = "\"\\u001f";
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t at; (at = s.find(open, pos)) != std::string::npos;) {
    out.append(s, pos, at - pos);
    size_t end = s.find('"', at + open.size());
    out.append(s, at + open.size(), end - at - open.size());
    pos = end + 1;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string xero_collection(const std::string& entity) {
  return entity == "customer"  ? "Contacts"
         : entity == "invoice" ? "Invoices"
         : entity == "payment" ? "Payments"
                               : "";
}

std::string xero_id_field(const std::string& entity) {
  return entity == "customer"  ? "ContactID"
         : entity == "invoice" ? "InvoiceID"
         : entity == "payment" ? "PaymentID"
                               : "";
}

std::string xero_contact_body(const json& fields, const std::string& external_id,
                              const std::string& vendor_id) {
  json c = json::object();
  if (!vendor_id.empty()) c["ContactID"] = vendor_id;
  c["ContactNumber"] = external_id;
  put(c, "Name", fields, "name");
  put(c, "EmailAddress", fields, "email");
  put(c, "TaxNumber", fields, "tax_number");
  put(c, "DefaultCurrency", fields, "currency");
  if (auto p = text(fields, "phone"); !p.empty())
    c["Phones"] = json::array({{{"PhoneType", "DEFAULT"}, {"PhoneNumber", p}}});
  if (auto s = text(fields, "status"); !s.empty())
    c["ContactStatus"] = s == "archived" ? "ARCHIVED" : "ACTIVE";
  return dump_exact(json{{"Contacts", json::array({c})}});
}

std::string xero_invoice_body(const json& fields, const std::string& external_id,
                              const std::string& vendor_id) {
  json inv = json::object();
  if (!vendor_id.empty()) inv["InvoiceID"] = vendor_id;
  inv["Type"] = text(fields, "kind") == "payable" ? "ACCPAY" : "ACCREC";
  if (auto c = text(fields, "customer_id"); !c.empty()) inv["Contact"] = {{"ContactID", c}};
  put(inv, "InvoiceNumber", fields, "number");
  inv["Reference"] = external_id;
  put(inv, "Date", fields, "issue_date");
  put(inv, "DueDate", fields, "due_date");
  put(inv, "CurrencyCode", fields, "currency");
  auto status = text(fields, "status");
  if (status == "draft") inv["Status"] = "DRAFT";
  if (status == "open") inv["Status"] = "AUTHORISED";
  if (status == "void") inv["Status"] = "VOIDED";
  if (auto l = fields.find("lines"); l != fields.end() && l->is_array()) {
    // Our unit prices exclude tax, as Xero's "Exclusive" line amounts do.
    inv["LineAmountTypes"] = "Exclusive";
    json lines = json::array();
    for (const auto& line : *l) {
      json x = json::object();
      put(x, "Description", line, "description");
      x["Quantity"] = exact_decimal_field(line, "quantity", "1");
      x["UnitAmount"] = exact_decimal_field(line, "unit_price");
      put(x, "AccountCode", line, "account_code");
      put(x, "TaxType", line, "tax_code");
      put(x, "ItemCode", line, "item_code");
      lines.push_back(std::move(x));
    }
    inv["LineItems"] = std::move(lines);
  }
  return dump_exact(json{{"Invoices", json::array({inv})}});
}

std::string xero_payment_body(const json& fields, const std::string& external_id) {
  json p = json::object();
  if (auto i = text(fields, "invoice_id"); !i.empty()) p["Invoice"] = {{"InvoiceID", i}};
  if (auto a = text(fields, "account"); !a.empty()) p["Account"] = {{"Code", a}};
  put(p, "Date", fields, "date");
  if (fields.contains("amount")) p["Amount"] = exact_decimal_field(fields, "amount");
  p["Reference"] = external_id;
  return dump_exact(json{{"Payments", json::array({p})}});
}

namespace {

// Xero's messages name Xero's things; which of ours each one means.
std::string field_of_message(const std::string& message, const std::string& entity,
                             const json& fields) {
  auto m = lower(message);
  auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
  // A line's code is quoted in the message ("Account code '999' is not a valid code…").
  auto line_with = [&](const char* key) -> std::string {
    auto l = fields.find("lines");
    if (l == fields.end() || !l->is_array()) return "";
    for (size_t i = 0; i < l->size(); ++i) {
      auto v = text((*l)[i], key);
      if (!v.empty() && message.find("'" + v + "'") != std::string::npos)
        return "lines/" + std::to_string(i) + "/" + key;
    }
    return "";
  };
  if (entity == "customer") {
    if (has("email")) return "email";
    if (has("contactnumber") || has("contact number")) return "external_id";
    if (has("name")) return "name";
    if (has("tax number")) return "tax_number";
    if (has("currency")) return "currency";
    if (has("phone")) return "phone";
    return "";
  }
  if (entity == "invoice") {
    if (has("account code")) return line_with("account_code");
    if (has("taxtype") || has("tax type") || has("tax rate")) return line_with("tax_code");
    if (has("item code")) return line_with("item_code");
    if (has("description")) return "lines";
    if (has("due date")) return "due_date";
    if (has("invoice number")) return "number";
    if (has("contact")) return "customer_id";
    if (has("currency")) return "currency";
    if (has("reference")) return "external_id";
    if (has("date")) return "issue_date";
    return "";
  }
  if (has("payment amount") || has("amount")) return "amount";
  if (has("account")) return "account";
  if (has("invoice") || has("document")) return "invoice_id";
  if (has("date")) return "date";
  if (has("reference")) return "external_id";
  return "";
}

void collect(const json& errors, const std::string& prefix_field, const std::string& entity,
             const json& fields, std::vector<problem>& out) {
  if (!errors.is_array()) return;
  for (const auto& e : errors) {
    auto msg = e.is_object() ? text(e, "Message") : std::string();
    if (msg.empty()) continue;
    auto field = field_of_message(msg, entity, fields);
    if (field.empty() || field == "lines") field = prefix_field.empty() ? field : prefix_field;
    out.push_back({field, msg});
  }
}

}  // namespace

std::vector<problem> xero_validation_errors(std::string_view body, const std::string& entity,
                                            const json& fields) {
  std::vector<problem> out;
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || text(j, "Type") != "ValidationException") return out;
  if (auto els = j.find("Elements"); els != j.end() && els->is_array()) {
    for (const auto& el : *els) {
      if (!el.is_object()) continue;
      if (auto v = el.find("ValidationErrors"); v != el.end()) collect(*v, "", entity, fields, out);
      if (auto li = el.find("LineItems"); li != el.end() && li->is_array())
        for (size_t i = 0; i < li->size(); ++i)
          if (auto v = (*li)[i].find("ValidationErrors");
              (*li)[i].is_object() && v != (*li)[i].end())
            collect(*v, "lines/" + std::to_string(i), entity, fields, out);
    }
  }
  if (out.empty()) out.push_back({"", text(j, "Message")});
  return out;
}

std::string xero_version(const json& record) {
  return record.is_object() ? text(record, "UpdatedDateUTC") : std::string();
}

namespace {
// "/Date(1551213567813+0000)/" -> 1551213567813: Xero's versions differ by milliseconds, which
// the canonical instant (whole seconds) would hide.
std::optional<long long> xero_ms(const std::string& v) {
  if (v.rfind("/Date(", 0) != 0) return std::nullopt;
  size_t i = 6, start = i;
  if (i < v.size() && v[i] == '-') ++i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == start || i - start > 18) return std::nullopt;
  return std::stoll(v.substr(start, i - start));
}
}  // namespace

bool same_xero_version(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (auto x = xero_ms(a), y = xero_ms(b); x && y) return *x == *y;
  auto x = normalize_datetime(a), y = normalize_datetime(b);
  return x.ok() && y.ok() && *x == *y;
}

}  // namespace ledgersync::model
