// The Xero sandbox's write endpoints (vendor_xero.hpp): what Xero does with PUT and POST on
// Contacts, Invoices and Payments, as far as a client's retries and mistakes can tell.
#include <algorithm>

#include "core/time_util.hpp"
#include "model/decimal.hpp"
#include "model/exact_json.hpp"
#include "model/push_xero.hpp"
#include "sandbox/vendor_xero.hpp"

namespace ledgersync::sandbox {

namespace {

using model::decimal;
using nlohmann::json;

// The order of xero_api::collections().
enum coll { invoices, contacts, payments };
const char* const kEntity[] = {"invoice", "customer", "payment"};
const char* const kIdField[] = {"InvoiceID", "ContactID", "PaymentID"};
// The sandbox organisation's chart (vendor_xero.cpp): codes lines may post to, and the bank
// accounts payments may go to.
const std::set<std::string> kCodes = {"090", "091", "200", "260", "310", "400",
                                      "429", "610", "710", "800", "820", "970"};
const std::set<std::string> kBankCodes = {"090", "091"};
const std::set<std::string> kCurrencies = {"GBP", "EUR", "USD", "NZD"};
const std::map<std::string, const char*> kTaxRates = {{"OUTPUT2", "0.20"},
                                                      {"NONE", "0"},
                                                      {"ZERORATEDOUTPUT", "0"},
                                                      {"EXEMPTOUTPUT", "0"},
                                                      {"INPUT2", "0.20"}};

std::string str(const json& j, const char* k) {
  if (!j.is_object()) return "";
  auto v = j.find(k);
  return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

// An amount as stored (a double from a seeded record, model::exact_number from a write) or as
// posted (parse_exact keeps a number's text as a string).
std::optional<decimal> dec(const json& v) {
  std::string s;
  if (v.is_number_integer())
    s = std::to_string(v.get<int64_t>());
  else if (v.is_number_float())
    s = v.dump();
  else if (v.is_string())
    s = v.get<std::string>();
  else
    return std::nullopt;
  if (!s.empty() && s[0] == '\x1f') s.erase(0, 1);
  auto d = decimal::parse(s);
  if (!d.ok()) return std::nullopt;
  return *d;
}

json money(const decimal& d) {
  auto r = d.rescale(2, model::rounding::half_up);
  return model::exact_number(r.ok() ? r->to_string() : d.to_string());
}

int64_t xero_ms(const std::string& v) {
  if (v.rfind("/Date(", 0) != 0) return 0;
  return std::strtoll(v.c_str() + 6, nullptr, 10);
}

// "2026-11-01" (what clients send) or Xero's own /Date()/ -> Xero's form; "" when neither.
std::string xero_day(const json& v) {
  if (!v.is_string()) return "";
  auto s = v.get<std::string>();
  if (s.rfind("/Date(", 0) == 0) return s;
  auto t = s.size() >= 10 ? parse_iso(s.substr(0, 10) + "T00:00:00Z") : std::nullopt;
  return t ? xero_date(to_ms(*t)) : "";
}

std::string envelope(int64_t now, const std::string& coll, const json& records) {
  json doc = {{"Id", stable_uuid(mix64(now) ^ 5)},
              {"Status", "OK"},
              {"ProviderName", "ledgersync sandbox"},
              {"DateTimeUTC", xero_date(now)},
              {coll, records}};
  return model::dump_exact(doc);
}

vendor_response reply(int status, std::string body) {
  vendor_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

vendor_response not_found() {
  return reply(
      404,
      R"({"Title":"Not Found","Status":404,"Detail":"The resource you're looking for cannot be found"})");
}

vendor_response validation(const std::vector<std::pair<json, std::vector<std::string>>>& els) {
  json elements = json::array();
  for (const auto& [el, messages] : els) {
    json e = el.is_object() ? el : json::object();
    json v = json::array();
    for (const auto& m : messages) v.push_back({{"Message", m}});
    e["ValidationErrors"] = std::move(v);
    elements.push_back(std::move(e));
  }
  return reply(400, model::dump_exact({{"ErrorNumber", 10},
                                       {"Type", "ValidationException"},
                                       {"Message", "A validation exception occurred"},
                                       {"Elements", std::move(elements)}}));
}

}  // namespace

bool xero_api::fault(const std::string& kind, size_t count) {
  std::lock_guard lock(mu_);
  if (kind == "write_500")
    write_500_ += count;
  else if (kind == "write_lost")
    write_lost_ += count;
  else if (kind == "write_429")
    write_429_ += count;
  else
    return false;
  return true;
}

int64_t xero_api::next_update(int64_t now) {
  last_update_ms_ = std::max(now, last_update_ms_ + 1);
  return last_update_ms_;
}

xero_api::written* xero_api::find_written(size_t c, const std::string& id) {
  for (auto& w : written_[c])
    if (w.id == id) return &w;
  return nullptr;
}

xero_api::written* xero_api::materialize(size_t c, const std::string& id) {
  if (auto* w = find_written(c, id)) return w;
  for (size_t i = 0; i < colls_[c].recs.size(); ++i) {
    if (shadowed_[c].count(i)) continue;
    std::string text;
    render(c, i, text);
    auto j = json::parse(text, nullptr, false);
    if (str(j, kIdField[c]) != id) continue;
    shadowed_[c].insert(i);
    written_[c].push_back({id, std::move(j)});
    return &written_[c].back();
  }
  return nullptr;
}

void xero_api::written_in_list(size_t c, int64_t since, bool archived, const std::string& where,
                               std::vector<std::tuple<int64_t, size_t, std::string>>& out) const {
  if (c > payments) return;
  std::string field, value;
  if (!where.empty()) {
    auto eq = where.find("==");
    if (eq == std::string::npos) return;
    field = where.substr(0, eq);
    value = where.substr(eq + 2);
    auto trim = [](std::string& s) {
      while (!s.empty() && s.front() == ' ') s.erase(0, 1);
      while (!s.empty() && s.back() == ' ') s.pop_back();
    };
    trim(field);
    trim(value);
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') return;
    value = value.substr(1, value.size() - 2);
    std::string unescaped;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      unescaped += value[i];
    }
    value = unescaped;
  }
  for (size_t k = 0; k < written_[c].size(); ++k) {
    const auto& b = written_[c][k].body;
    int64_t updated = xero_ms(str(b, "UpdatedDateUTC"));
    if (updated < since) continue;
    if (c == contacts && !archived && str(b, "ContactStatus") == "ARCHIVED") continue;
    if (!field.empty() && str(b, field.c_str()) != value) continue;
    out.emplace_back(updated, colls_[c].recs.size() + k, model::dump_exact(b));
  }
}

std::optional<vendor_response> xero_api::read_one(const std::string& path, int64_t now) {
  auto slash = path.find('/', 1);
  if (slash == std::string::npos) return std::nullopt;
  auto c = index_of(collections(), path.substr(1, slash - 1));
  if (!c || *c > payments) return std::nullopt;
  auto id = path.substr(slash + 1);
  if (auto* w = find_written(*c, id))
    return reply(200, envelope(now, collections()[*c], json::array({w->body})));
  for (size_t i = 0; i < colls_[*c].recs.size(); ++i) {
    std::string text;
    render(*c, i, text);
    if (text.find("\"" + std::string(kIdField[*c]) + "\":\"" + id + "\"") == std::string::npos)
      continue;
    vendor_response r;
    r.body = "{\"Id\":\"" + stable_uuid(mix64(now) ^ 6) +
             "\",\"Status\":\"OK\",\"ProviderName\":\"ledgersync sandbox\",\"DateTimeUTC\":\"" +
             xero_date(now) + "\",\"" + collections()[*c] + "\":[" + text + "]}";
    return r;
  }
  return not_found();
}

vendor_response xero_api::write(const vendor_request& req, int64_t now) {
  auto slash = req.path.find('/', 1);
  auto name = req.path.substr(std::min<size_t>(1, req.path.size()),
                              slash == std::string::npos ? std::string::npos : slash - 1);
  auto c = index_of(collections(), name);
  if (!c) return not_found();
  if (*c > payments)
    return validation({{json::object(),
                        {"The sandbox takes writes of Contacts, Invoices and "
                         "Payments only"}}});
  std::string path_id = slash == std::string::npos ? "" : req.path.substr(slash + 1);
  if (req.method != "PUT" && req.method != "POST")
    return reply(405, R"({"Title":"Method Not Allowed","Status":405})");
  if (req.method == "PUT" && !path_id.empty())
    return reply(
        405,
        R"({"Title":"Method Not Allowed","Status":405,"Detail":"PUT creates: send it to the collection"})");

  auto key = req.header("idempotency-key");
  if (key.size() > 128)
    return reply(
        400,
        R"({"Title":"Bad Request","Status":400,"Detail":"Idempotency-Key must be at most 128 characters"})");
  std::string fingerprint = req.method + " " + req.path + "\n" + req.body;
  if (!key.empty())
    if (auto it = idempotency_.find(key); it != idempotency_.end()) {
      if (it->second.request == fingerprint) return it->second.answer;
      return reply(
          400,
          R"({"Title":"Bad Request","Status":400,"Detail":"The Idempotency-Key has already been used for a different request"})");
    }
  if (write_429_ > 0) {
    --write_429_;
    auto r = reply(429, "");
    r.content_type = "text/plain";
    r.set("X-Rate-Limit-Problem", "minute");
    r.set("Retry-After", std::to_string((60'000 - now % 60'000 + 999) / 1000));
    return r;
  }
  auto server_error = [] {
    return reply(
        500,
        R"({"Title":"An error occurred","Status":500,"Detail":"An error occurred in Xero. Check the API Status page for any issues."})");
  };
  if (write_500_ > 0) {
    --write_500_;
    return server_error();
  }

  auto parsed = model::parse_exact(req.body);
  const json* list = nullptr;
  if (parsed.ok() && parsed->is_object())
    if (auto l = parsed->find(name); l != parsed->end() && l->is_array() && !l->empty()) list = &*l;
  if (!list)
    return validation({{json::object(), {"The request body must be {\"" + name + "\":[…]}"}}});

  // Check every element before changing anything: a batch is taken whole or not at all.
  std::vector<std::pair<json, std::vector<std::string>>> checked;
  std::vector<std::string> targets;  // ids: records move as the vectors grow
  bool bad = false;
  for (const auto& el : *list) {
    if (!el.is_object()) {
      checked.push_back({json::object(), {"Each element must be an object"}});
      bad = true;
      continue;
    }
    std::string id = path_id.empty() ? str(el, kIdField[*c]) : path_id;
    written* target = nullptr;
    if (!id.empty()) {
      if (req.method == "PUT") {
        checked.push_back({el, {"A record with an id is updated with POST"}});
        bad = true;
        continue;
      }
      target = materialize(*c, id);
      if (!target) return not_found();
    } else if (*c == contacts && req.method == "POST") {
      // POST without an id updates the contact that has this ContactNumber, as Xero does.
      auto number = str(el, "ContactNumber");
      for (auto& w : written_[*c])
        if (!number.empty() && str(w.body, "ContactNumber") == number) target = &w;
    }
    std::vector<std::string> m;
    const json* base = target ? &target->body : nullptr;
    auto value = [&](const char* k) {
      auto v = str(el, k);
      return v.empty() && base ? str(*base, k) : v;
    };
    if (*c == contacts) {
      auto nm = value("Name");
      if (nm.empty() && str(el, "ContactNumber").empty() && !target)
        m.push_back(
            "The Contact must contain at least 1 of the following elements to identify the "
            "contact: Name, ContactID, ContactNumber");
      else if (nm.empty())
        m.push_back("The contact name must be specified.");
      if (nm.size() > 255) m.push_back("The Name must be 255 characters or less.");
      if (str(el, "ContactNumber").size() > 50)
        m.push_back("The ContactNumber must be 50 characters or less.");
      auto email = str(el, "EmailAddress");
      auto at = email.find('@');
      if (!email.empty() && (at == std::string::npos || email.find('.', at) == std::string::npos))
        m.push_back("Email address must be valid.");
      // Names are unique among active contacts.
      auto taken = [&](const json& b) {
        return str(b, "Name") == nm && str(b, "ContactStatus") != "ARCHIVED" &&
               (!target || &b != &target->body);
      };
      bool dup = false;
      for (const auto& w : written_[contacts]) dup = dup || taken(w.body);
      for (size_t i = 0; i < colls_[contacts].recs.size() && !dup; ++i)
        dup = !shadowed_[contacts].count(i) && nm == "Customer " + std::to_string(i + 1) + " Ltd";
      if (!nm.empty() && dup)
        m.push_back("The contact name " + nm +
                    " is already assigned to another contact. The contact name must be unique "
                    "across all active contacts.");
    } else if (*c == invoices) {
      if (base) {
        auto st = str(*base, "Status");
        if (st == "PAID" || st == "VOIDED" || st == "DELETED")
          m.push_back("Invoice not of valid status for modification");
      }
      auto contact_id = str(el.value("Contact", json::object()), "ContactID");
      if (contact_id.empty() && !base)
        m.push_back(
            "The Contact must contain at least 1 of the following elements to identify the "
            "contact: Name, ContactID, ContactNumber");
      else if (!contact_id.empty() && !materialize(contacts, contact_id))
        m.push_back("The Contact with ContactID " + contact_id + " could not be found.");
      if (auto t = value("Type"); t != "ACCREC" && t != "ACCPAY")
        m.push_back("Invoice Type must be ACCREC or ACCPAY.");
      if (auto cur = str(el, "CurrencyCode"); !cur.empty() && !kCurrencies.count(cur))
        m.push_back("Organisation is not subscribed to currency " + cur);
      if (value("Status") == "AUTHORISED" && value("DueDate").empty())
        m.push_back("Due Date is required.");
      for (const char* d : {"Date", "DueDate"})
        if (el.contains(d) && xero_day(el[d]).empty())
          m.push_back(std::string(d) + " must be a valid date.");
      if (auto lines = el.find("LineItems"); lines != el.end() && lines->is_array())
        for (const auto& l : *lines) {
          auto code = str(l, "AccountCode");
          if (!code.empty() && !kCodes.count(code))
            m.push_back("Account code '" + code + "' is not a valid code for this document.");
          auto tax = str(l, "TaxType");
          if (!tax.empty() && !kTaxRates.count(tax))
            m.push_back("The TaxType code '" + tax +
                        "' does not exist or cannot be used for this type of transaction.");
          if (str(l, "Description").empty()) m.push_back("Description must be specified.");
          if (!dec(l.value("UnitAmount", json()))) m.push_back("UnitAmount must be a number.");
        }
    } else {
      if (target) {
        m.push_back("A payment cannot be changed; it can only be deleted");
      } else {
        auto inv_id = str(el.value("Invoice", json::object()), "InvoiceID");
        written* inv = inv_id.empty() ? nullptr : materialize(invoices, inv_id);
        auto amount = dec(el.value("Amount", json()));
        auto code = str(el.value("Account", json::object()), "Code");
        if (!inv)
          m.push_back("The document with the supplied id was not found for this endpoint.");
        else if (str(inv->body, "Status") != "AUTHORISED")
          m.push_back("Payments can only be made against Authorised documents");
        if (!kBankCodes.count(code))
          m.push_back("Account type is invalid for making a payment to/from");
        if (!amount || amount->negative() || amount->zero())
          m.push_back("Payment amount must be greater than zero");
        else if (inv) {
          auto due = dec(inv->body.value("AmountDue", json()));
          if (due && *amount > *due)
            m.push_back("Payment amount exceeds the amount outstanding on this document");
        }
      }
    }
    if (!m.empty()) bad = true;
    checked.push_back({el, std::move(m)});
    targets.push_back(target ? target->id : "");
  }
  if (bad) {
    auto r = validation(checked);
    if (!key.empty()) idempotency_[key] = {fingerprint, r};
    return r;
  }

  json out = json::array();
  for (size_t k = 0; k < list->size(); ++k) {
    const auto& el = (*list)[k];
    bool create = targets[k].empty();
    if (create) {
      auto id = stable_uuid(mix64(opts_.seed ^ 0xc0ffee) ^ ++created_);
      written_[*c].push_back({id, json{{kIdField[*c], id}}});
    }
    written* target = create ? &written_[*c].back() : find_written(*c, targets[k]);
    json& b = target->body;
    auto updated = next_update(now);
    if (*c == contacts) {
      if (create)
        b.update({{"ContactStatus", "ACTIVE"}, {"IsSupplier", false}, {"IsCustomer", true}});
      for (const auto& [k2, v] : el.items())
        if (k2 != "ContactID") b[k2] = v;
    } else if (*c == invoices) {
      if (create)
        b.update({{"Type", "ACCREC"},
                  {"InvoiceNumber", "INV-" + std::to_string(10000 + created_)},
                  {"Status", "DRAFT"},
                  {"LineAmountTypes", "Exclusive"},
                  {"CurrencyCode", "GBP"},
                  {"CurrencyRate", model::exact_number("1.000000")},
                  {"Date", xero_date(now - now % 86'400'000)},
                  {"DueDate", xero_date(now - now % 86'400'000 + 30 * 86'400'000LL)},
                  {"AmountPaid", money(decimal{})},
                  {"LineItems", json::array()}});
      for (const char* f :
           {"Type", "InvoiceNumber", "Reference", "Status", "CurrencyCode", "LineAmountTypes"})
        if (auto v = str(el, f); !v.empty()) b[f] = v;
      for (const char* d : {"Date", "DueDate"})
        if (el.contains(d)) b[d] = xero_day(el[d]);
      if (auto cid = str(el.value("Contact", json::object()), "ContactID"); !cid.empty()) {
        auto* contact = materialize(contacts, cid);
        b["Contact"] = {{"ContactID", cid}, {"Name", contact ? str(contact->body, "Name") : ""}};
      }
      if (auto lines = el.find("LineItems"); lines != el.end() && lines->is_array()) {
        json items = json::array();
        for (const auto& l : *lines) {
          json x = json::object();
          for (const char* f : {"Description", "AccountCode", "TaxType", "ItemCode"})
            if (auto v = str(l, f); !v.empty()) x[f] = v;
          auto q = dec(l.value("Quantity", json("1"))).value_or(*decimal::parse("1"));
          auto u = dec(l.value("UnitAmount", json("0"))).value_or(decimal{});
          auto amount = product_or_zero(q, u).rescale(2, model::rounding::half_up);
          auto line = amount.ok() ? *amount : decimal{};
          auto rate = kTaxRates.count(str(l, "TaxType"))
                          ? *decimal::parse(kTaxRates.at(str(l, "TaxType")))
                          : decimal{};
          auto tax = product_or_zero(line, rate).rescale(2, model::rounding::half_up);
          x["Quantity"] = model::exact_number(q.to_string());
          x["UnitAmount"] = model::exact_number(u.to_string());
          x["LineAmount"] = money(line);
          x["TaxAmount"] = money(tax.ok() ? *tax : decimal{});
          x["LineItemID"] = stable_uuid(mix64(created_) ^ updated ^ items.size());
          items.push_back(std::move(x));
        }
        b["LineItems"] = std::move(items);
      }
      decimal sub, tax;
      for (const auto& l : b["LineItems"]) {
        sub = sum_or_first(sub, dec(l.value("LineAmount", json())).value_or(decimal{}));
        tax = sum_or_first(tax, dec(l.value("TaxAmount", json())).value_or(decimal{}));
      }
      auto total = sum_or_first(sub, tax);
      auto paid = dec(b.value("AmountPaid", json())).value_or(decimal{});
      b["SubTotal"] = money(sub);
      b["TotalTax"] = money(tax);
      b["Total"] = money(total);
      b["AmountDue"] = money(sum_or_first(total, -paid));
    } else {
      auto* inv = materialize(invoices, str(el["Invoice"], "InvoiceID"));
      auto amount = *dec(el["Amount"]);
      b.update(
          {{"Date", el.contains("Date") ? xero_day(el["Date"]) : xero_date(now - now % 86'400'000)},
           {"Amount", money(amount)},
           {"BankAmount", money(amount)},
           {"Reference", str(el, "Reference")},
           {"CurrencyRate", model::exact_number("1.000000")},
           {"PaymentType", "ACCRECPAYMENT"},
           {"Status", "AUTHORISED"},
           {"IsReconciled", false},
           {"Account", {{"Code", str(el["Account"], "Code")}}},
           {"Invoice",
            {{"InvoiceID", inv->id},
             {"InvoiceNumber", str(inv->body, "InvoiceNumber")},
             {"CurrencyCode", str(inv->body, "CurrencyCode")},
             {"Contact", inv->body.value("Contact", json::object())}}}});
      auto& ib = inv->body;
      auto due = sum_or_first(dec(ib.value("AmountDue", json())).value_or(decimal{}), -amount);
      ib["AmountPaid"] =
          money(sum_or_first(dec(ib.value("AmountPaid", json())).value_or(decimal{}), amount));
      ib["AmountDue"] = money(due);
      if (due.zero()) ib["Status"] = "PAID";
      ib["UpdatedDateUTC"] = xero_date(next_update(now));
    }
    b["UpdatedDateUTC"] = xero_date(updated);
    auto ref = str(b, *c == contacts ? "ContactNumber" : "Reference");
    effects_.count("xero", kEntity[*c], ref.empty() ? target->id : ref,
                   create ? effect_log::effect::create : effect_log::effect::update);
    out.push_back(b);
  }
  auto r = reply(200, envelope(now, name, out));
  if (!key.empty()) idempotency_[key] = {fingerprint, r};
  if (write_lost_ > 0) {
    --write_lost_;
    return server_error();  // it happened; the client cannot know
  }
  return r;
}

}  // namespace ledgersync::sandbox
