#include "model/push_quickbooks.hpp"

#include <regex>

#include "model/decimal.hpp"

namespace ledgersync::model {

namespace {

using nlohmann::json;

// A string value starting with this byte is a number's text to splice in unquoted. Text from
// the application never carries it: quickbooks_check refuses control characters and text()
// drops it.
constexpr char number_mark = '\x01';

json number(const decimal& d) {
  std::string s(1, number_mark);
  s += d.to_string();
  return s;
}

std::string text(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  std::erase(s, number_mark);
  return s;
}

void write(const json& j, std::string& out) {
  if (j.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      if (!first) out += ',';
      first = false;
      out += json(k).dump();
      out += ':';
      write(v, out);
    }
    out += '}';
  } else if (j.is_array()) {
    out += '[';
    for (size_t i = 0; i < j.size(); ++i) {
      if (i) out += ',';
      write(j[i], out);
    }
    out += ']';
  } else if (j.is_string() && !j.get_ref<const std::string&>().empty() &&
             j.get_ref<const std::string&>()[0] == number_mark) {
    out += j.get_ref<const std::string&>().substr(1);
  } else {
    out += j.dump();
  }
}

result<decimal> dec(const json& fields, const char* key) {
  auto v = fields.find(key);
  if (v == fields.end() || !v->is_string())
    return result<decimal>::bad(std::string(key) + ": is missing");
  auto d = decimal::parse(v->get_ref<const std::string&>());
  if (!d.ok()) return result<decimal>::bad(std::string(key) + ": " + d.error);
  return d;
}

void ref(json& body, const json& fields, const char* field, const char* qbo) {
  if (auto v = fields.find(field); v != fields.end()) body[qbo] = {{"value", text(*v)}};
}
void plain(json& body, const json& fields, const char* field, const char* qbo) {
  if (auto v = fields.find(field); v != fields.end()) body[qbo] = text(*v);
}

result<json> customer(const json& f) {
  json b = json::object();
  plain(b, f, "name", "DisplayName");
  if (auto v = f.find("email"); v != f.end()) b["PrimaryEmailAddr"] = {{"Address", text(*v)}};
  if (auto v = f.find("phone"); v != f.end()) b["PrimaryPhone"] = {{"FreeFormNumber", text(*v)}};
  plain(b, f, "tax_number", "PrimaryTaxIdentifier");
  ref(b, f, "currency", "CurrencyRef");
  if (auto v = f.find("status"); v != f.end()) b["Active"] = *v != "archived";
  return result<json>::good(std::move(b));
}

result<json> invoice(const json& f) {
  json b = json::object();
  ref(b, f, "customer_id", "CustomerRef");
  ref(b, f, "currency", "CurrencyRef");
  plain(b, f, "number", "DocNumber");
  plain(b, f, "issue_date", "TxnDate");
  plain(b, f, "due_date", "DueDate");
  if (auto lines = f.find("lines"); lines != f.end() && lines->is_array()) {
    json out = json::array();
    for (size_t i = 0; i < lines->size(); ++i) {
      const auto& l = (*lines)[i];
      std::string at = "lines/" + std::to_string(i) + "/";
      auto price = dec(l, "unit_price");
      if (!price.ok()) return result<json>::bad(at + price.error);
      auto qty = l.contains("quantity") ? dec(l, "quantity") : decimal::parse("1");
      if (!qty.ok()) return result<json>::bad(at + qty.error);
      // quantity x unit_price, exactly (QuickBooks checks Amount = Qty x UnitPrice).
      auto amount = qty->times(*price);
      if (!amount.ok()) return result<json>::bad(at + "amount: " + amount.error);
      json detail{{"Qty", number(*qty)}, {"UnitPrice", number(*price)}};
      if (auto v = l.find("item_code"); v != l.end()) detail["ItemRef"] = {{"value", text(*v)}};
      if (auto v = l.find("tax_code"); v != l.end()) detail["TaxCodeRef"] = {{"value", text(*v)}};
      json line{{"DetailType", "SalesItemLineDetail"},
                {"Amount", number(amount->trimmed())},
                {"SalesItemLineDetail", std::move(detail)}};
      if (auto v = l.find("description"); v != l.end()) line["Description"] = text(*v);
      out.push_back(std::move(line));
    }
    b["Line"] = std::move(out);
  }
  return result<json>::good(std::move(b));
}

result<json> payment(const json& f) {
  json b = json::object();
  ref(b, f, "customer_id", "CustomerRef");
  ref(b, f, "currency", "CurrencyRef");
  plain(b, f, "date", "TxnDate");
  plain(b, f, "reference", "PaymentRefNum");
  ref(b, f, "account", "DepositToAccountRef");
  std::optional<decimal> amount;
  if (f.contains("amount")) {
    auto a = dec(f, "amount");
    if (!a.ok()) return result<json>::bad(a.error);
    amount = *a;
    b["TotalAmt"] = number(*a);
  }
  // The invoice it pays is a line linking to it, for the whole amount.
  if (auto inv = f.find("invoice_id"); inv != f.end()) {
    if (!amount) return result<json>::bad("amount: is needed with invoice_id");
    b["Line"] = json::array(
        {{{"Amount", number(*amount)},
          {"LinkedTxn", json::array({{{"TxnId", text(*inv)}, {"TxnType", "Invoice"}}})}}});
  }
  return result<json>::good(std::move(b));
}

size_t length(const json& v) {
  return v.is_string() ? v.get_ref<const std::string&>().size() : 0;
}

bool has_control(const json& v) {
  if (v.is_string()) {
    for (unsigned char c : v.get_ref<const std::string&>())
      if (c < 0x20 || c == 0x7f) return true;
    return false;
  }
  if (v.is_structured())
    for (const auto& e : v)
      if (has_control(e)) return true;
  return false;
}

}  // namespace

std::string quickbooks_entity(std::string_view entity) {
  if (entity == "customer") return "Customer";
  if (entity == "invoice") return "Invoice";
  if (entity == "payment") return "Payment";
  return "";
}

const char* quickbooks_ref_field(std::string_view entity) {
  return entity == "customer" ? "Notes" : "PrivateNote";
}

result<std::string> quickbooks_body(std::string_view entity, const json& fields,
                                    const std::string& external_id, const std::string& id,
                                    const std::string& sync_token) {
  auto b = entity == "customer"  ? customer(fields)
           : entity == "invoice" ? invoice(fields)
           : entity == "payment" ? payment(fields)
                                 : result<json>::bad("QuickBooks takes customer, invoice, payment");
  if (!b.ok()) return result<std::string>::bad(b.error);
  json body = *b;
  if (!external_id.empty()) body[quickbooks_ref_field(entity)] = text(external_id);
  if (!id.empty()) {
    body["Id"] = id;
    body["SyncToken"] = sync_token;
    body["sparse"] = true;  // only the fields sent change; the rest stay as they are
  }
  std::string out;
  write(body, out);
  return result<std::string>::good(std::move(out));
}

std::vector<std::string> quickbooks_check(std::string_view entity, bool create, const json& f) {
  std::vector<std::string> out;
  auto limit = [&](const char* key, size_t max) {
    if (auto v = f.find(key); v != f.end() && length(*v) > max)
      out.push_back(std::string("fields.") + key + ": QuickBooks takes at most " +
                    std::to_string(max) + " characters");
  };
  for (const auto& [k, v] : f.items())
    if (has_control(v)) out.push_back("fields." + k + ": QuickBooks refuses control characters");
  if (entity == "customer") {
    limit("name", 500);
    limit("email", 100);
    limit("phone", 30);
    limit("tax_number", 20);
  } else if (entity == "invoice") {
    limit("number", 21);
    if (f.contains("reference"))
      out.push_back(
          "fields.reference: QuickBooks keeps the external_id in the invoice's PrivateNote, "
          "where ledgersync reads reference from; leave reference out");
    if (auto s = f.find("status"); s != f.end() && *s == "draft")
      out.push_back("fields.status: QuickBooks has no draft invoices; leave status out");
    if (auto lines = f.find("lines"); lines != f.end() && lines->is_array())
      for (size_t i = 0; i < lines->size(); ++i) {
        const auto& l = (*lines)[i];
        std::string at = "fields.lines/" + std::to_string(i);
        if (l.contains("account_code"))
          out.push_back(at +
                        "/account_code: QuickBooks takes the income account from the "
                        "item; give item_code instead");
        if (auto d = l.find("description"); d != l.end() && length(*d) > 4000)
          out.push_back(at + "/description: QuickBooks takes at most 4000 characters");
      }
  } else if (entity == "payment") {
    limit("reference", 21);
    if (create && !f.contains("customer_id") && !f.contains("customer_external_id"))
      out.push_back(
          "fields.customer_id or customer_external_id: QuickBooks needs the customer "
          "who paid");
    if (auto s = f.find("status"); s != f.end() && *s != "succeeded")
      out.push_back("fields.status: a QuickBooks payment is received money; leave status out");
  }
  return out;
}

std::vector<quickbooks_fault> quickbooks_faults(std::string_view body) {
  std::vector<quickbooks_fault> out;
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return out;
  auto ci = [](const json& o, const char* key) -> const json* {
    if (!o.is_object()) return nullptr;
    for (auto it = o.begin(); it != o.end(); ++it) {
      const auto& k = it.key();
      if (k.size() == std::strlen(key) && std::equal(k.begin(), k.end(), key, [](char a, char b) {
            return std::tolower(a) == std::tolower(b);
          }))
        return &it.value();
    }
    return nullptr;
  };
  auto str = [&](const json& o, const char* key) {
    const json* v = ci(o, key);
    return v && v->is_string() ? v->get<std::string>() : v && !v->is_null() ? v->dump() : "";
  };
  const json* fault = ci(j, "Fault");
  if (!fault) return out;
  std::string type = str(*fault, "type");
  if (const json* errs = ci(*fault, "Error"); errs && errs->is_array())
    for (const auto& e : *errs)
      out.push_back({type, str(e, "code"), str(e, "Message"), str(e, "Detail"), str(e, "element")});
  if (out.empty()) out.push_back({type, "", "", "", ""});
  return out;
}

std::string quickbooks_field(std::string_view entity, const quickbooks_fault& f) {
  if (f.element.empty()) {
    if (f.code == "6240") return "name";    // Duplicate Name Exists
    if (f.code == "6210") return "number";  // Duplicate Document Number
    return "";
  }
  static const std::regex line(R"(^Line\[?(\d+)?\]?\.?(.*)$)");
  std::smatch m;
  std::string el = f.element;
  if (std::regex_match(el, m, line)) {
    // QuickBooks counts lines from 1; without a number the whole list is meant.
    bool one = m[1].matched && m[1].length() < 6 && std::stoul(m[1]) > 0;
    std::string at = "lines";
    if (one) at.append("/").append(std::to_string(std::stoul(m[1]) - 1));
    std::string rest = m[2];
    static const std::pair<const char*, const char*> parts[] = {{"ItemRef", "/item_code"},
                                                                {"TaxCodeRef", "/tax_code"},
                                                                {"UnitPrice", "/unit_price"},
                                                                {"Qty", "/quantity"},
                                                                {"Description", "/description"}};
    for (const auto& [qbo, ours] : parts)
      if (rest.find(qbo) != std::string::npos) return one ? at.append(ours) : at;
    if (rest.find("LinkedTxn") != std::string::npos) return "invoice_id";
    return at;
  }
  auto head = el.substr(0, el.find('.'));
  if (head == "DisplayName") return "name";
  if (head == "PrimaryEmailAddr") return "email";
  if (head == "PrimaryPhone") return "phone";
  if (head == "PrimaryTaxIdentifier") return "tax_number";
  if (head == "CurrencyRef") return "currency";
  if (head == "CustomerRef") return "customer_id";
  if (head == "DocNumber") return "number";
  if (head == "TxnDate") return entity == "payment" ? "date" : "issue_date";
  if (head == "DueDate") return "due_date";
  if (head == "TotalAmt") return "amount";
  if (head == "PaymentRefNum") return "reference";
  if (head == "DepositToAccountRef") return "account";
  if (head == "Notes" || head == "PrivateNote") return "external_id";
  if (head == "SyncToken") return "base_version";
  if (head == "Active") return "status";
  return "";
}

}  // namespace ledgersync::model
