// The Sage sandbox's write endpoints (vendor_sage.hpp): contacts, sales invoices and contact
// payments created and changed as Sage Business Cloud Accounting v3.1 does it, as far as a
// client's retries and mistakes can tell. Sage has no idempotency key: a repeated POST is a
// second record, which is what a client's lookup by reference must prevent.
#include <algorithm>

#include "core/time_util.hpp"
#include "model/decimal.hpp"
#include "model/exact_json.hpp"
#include "sandbox/vendor_sage.hpp"

namespace ledgersync::sandbox {

namespace {

using model::decimal;
using nlohmann::json;

// The order of sage_api::collections().
enum coll { contacts, sales_invoices, contact_payments, bank_accounts, ledger_accounts };
const char* const kEntity[] = {"customer", "invoice", "payment"};
const char* const kWrapper[] = {"contact", "sales_invoice", "contact_payment"};
const std::set<std::string> kCurrencies = {"GBP", "EUR", "USD"};
const std::map<std::string, std::pair<const char*, const char*>> kTaxRates = {
    {"GB_STANDARD", {"0.20", "Standard 20.00%"}},
    {"GB_LOWER", {"0.05", "Lower 5.00%"}},
    {"GB_ZERO", {"0", "Zero 0.00%"}},
    {"GB_EXEMPT", {"0", "Exempt 0.00%"}},
    {"GB_NO_TAX", {"0", "No Tax"}}};
// The sandbox chart's income accounts (vendor_sage.cpp: 4000 Sales Type A, 4900 Other Income):
// a sales invoice's lines post to them.
constexpr size_t kIncome[] = {4, 5};

std::string str(const json& j, const char* k) {
  if (!j.is_object()) return "";
  auto v = j.find(k);
  return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

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
  auto d = decimal::parse(s);
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::string money(const decimal& d) {
  auto r = d.rescale(2, model::rounding::half_up);
  return r.ok() ? r->to_string() : d.to_string();
}

std::string iso_ms(int64_t ms) {
  auto t = format_iso(from_ms(ms / 1000 * 1000)).substr(0, 19);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms % 1000));
  return t + frac + "Z";
}

std::string day_of(int64_t ms) {
  return format_iso(from_ms(ms - ms % 86'400'000)).substr(0, 10);
}

bool is_day(const std::string& s) {
  return s.size() == 10 && parse_iso(s + "T00:00:00Z").has_value();
}

json link(const std::string& id, const std::string& shown, const std::string& path) {
  return {{"id", id}, {"displayed_as", shown}, {"$path", path}};
}

json currency_link(const std::string& code) {
  return link(code, code, "/currencies/" + code);
}

vendor_response reply(int status, std::string body) {
  vendor_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct sage_problem {
  std::string code, message, source;
};

vendor_response unprocessable(const std::vector<sage_problem>& ps) {
  json a = json::array();
  for (const auto& p : ps)
    a.push_back({{"$severity", "error"},
                 {"$dataCode", p.code},
                 {"$message", p.message},
                 {"$source", p.source}});
  return reply(422, a.dump());
}

std::string sage_error_text(const std::string& code, const std::string& message) {
  return json::array({{{"$severity", "error"},
                       {"$dataCode", code},
                       {"$message", message},
                       {"$source", ""}}})
      .dump();
}

vendor_response not_found(const std::string& what) {
  return reply(404, sage_error_text("RecordNotFound", "No " + what + " with that id exists."));
}

}  // namespace

bool sage_api::fault(const std::string& kind, size_t count) {
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

sage_api::written* sage_api::find_written(size_t c, const std::string& id) {
  for (auto& w : written_[c])
    if (w.id == id) return &w;
  return nullptr;
}

sage_api::written* sage_api::materialize(size_t c, const std::string& id) {
  if (auto* w = find_written(c, id)) return w;
  for (size_t i = 0; i < colls_[c].recs.size(); ++i) {
    if (shadowed_[c].count(i) || colls_[c].recs[i].deleted || id_of(c, i) != id) continue;
    std::string text;
    render(c, i, true, text);
    auto j = json::parse(text, nullptr, false);
    if (!j.is_object()) return nullptr;
    shadowed_[c].insert(i);
    written_[c].push_back({id, std::move(j), colls_[c].recs[i].updated_ms});
    return &written_[c].back();
  }
  return nullptr;
}

void sage_api::written_in_list(size_t c, int64_t since, const std::string& search,
                               std::vector<std::tuple<int64_t, size_t, std::string>>& out) const {
  for (size_t k = 0; k < written_[c].size(); ++k) {
    const auto& w = written_[c][k];
    if (w.updated_ms < since) continue;
    auto text = w.body.dump();
    if (!search.empty()) {
      auto low = text;
      for (auto& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (low.find(search) == std::string::npos) continue;
    }
    out.emplace_back(w.updated_ms, colls_[c].recs.size() + k, std::move(text));
  }
}

std::optional<vendor_response> sage_api::read_one(const std::string& path) {
  auto slash = path.find('/', 1);
  if (slash == std::string::npos) return std::nullopt;
  auto c = index_of(collections(), path.substr(1, slash - 1));
  if (!c) return std::nullopt;
  auto id = path.substr(slash + 1);
  if (auto* w = find_written(*c, id)) return reply(200, w->body.dump());
  for (size_t i = 0; i < colls_[*c].recs.size(); ++i)
    if (id_of(*c, i) == id && !colls_[*c].recs[i].deleted) {
      vendor_response r;
      render(*c, i, true, r.body);
      return r;
    }
  return not_found(kWrapper[std::min<size_t>(*c, 2)]);
}

vendor_response sage_api::write(const vendor_request& req, int64_t now) {
  auto slash = req.path.find('/', 1);
  auto name = req.path.substr(std::min<size_t>(1, req.path.size()),
                              slash == std::string::npos ? std::string::npos : slash - 1);
  auto c = index_of(collections(), name);
  std::string id = slash == std::string::npos ? "" : req.path.substr(slash + 1);
  if (!c) return reply(404, sage_error_text("RecordNotFound", "No such endpoint: /" + name));
  if (*c > contact_payments || (req.method == "POST" && !id.empty()) ||
      (req.method == "PUT" && id.empty()) || (req.method != "POST" && req.method != "PUT"))
    return reply(405, sage_error_text("MethodNotAllowed",
                                      "POST creates on the collection, PUT updates a record."));
  if (write_429_ > 0) {
    --write_429_;
    auto r = reply(
        429, sage_error_text("TooManyRequests", "Too many requests, please try again later."));
    r.set("Retry-After", "1");
    return r;
  }
  if (write_500_ > 0) {
    --write_500_;
    return reply(500, sage_error_text("InternalServerError", "Something went wrong."));
  }
  written* target = nullptr;
  if (!id.empty()) {
    target = materialize(*c, id);
    if (!target) return not_found(kWrapper[*c]);
  }
  auto parsed = model::parse_exact(req.body);
  const json* el = nullptr;
  if (parsed.ok() && parsed->is_object())
    if (auto w = parsed->find(kWrapper[*c]); w != parsed->end() && w->is_object()) el = &*w;
  if (!el)
    return unprocessable(
        {{"RecordInvalid", std::string("The body must be {\"") + kWrapper[*c] + "\":{…}}",
          kWrapper[*c]}});
  const json& e = *el;
  const json* base = target ? &target->body : nullptr;
  auto value = [&](const char* k) {
    auto v = str(e, k);
    return v.empty() && base ? str(*base, k) : v;
  };
  auto contact_exists = [&](const std::string& cid) -> std::string {
    if (auto* w = find_written(contacts, cid)) return str(w->body, "name");
    for (size_t i = 0; i < colls_[contacts].recs.size(); ++i)
      if (id_of(contacts, i) == cid && !colls_[contacts].recs[i].deleted)
        return "Customer " + std::to_string(i + 1) + " Ltd";
    return "";
  };
  std::vector<sage_problem> ps;
  auto blank = [&](const char* k, const std::string& source) {
    if (value(k).empty()) ps.push_back({"RecordInvalid", "can't be blank", source});
  };
  if (*c == contacts) {
    blank("name", "name");
    if (!base && (!e.contains("contact_type_ids") || !e["contact_type_ids"].is_array() ||
                  e["contact_type_ids"].empty()))
      ps.push_back({"RecordInvalid", "can't be blank", "contact_type_ids"});
    if (auto ref = str(e, "reference"); !ref.empty()) {
      bool taken = false;
      for (const auto& w : written_[contacts])
        taken = taken || (str(w.body, "reference") == ref && (!target || w.id != target->id));
      if (taken) ps.push_back({"RecordInvalid", "has already been taken", "reference"});
    }
    auto email = str(e.value("main_contact_person", json::object()), "email");
    auto at = email.find('@');
    if (!email.empty() && (at == std::string::npos || email.find('.', at) == std::string::npos))
      ps.push_back({"RecordInvalid", "is invalid", "main_contact_person.email"});
    if (auto cur = str(e, "currency_id"); !cur.empty() && !kCurrencies.count(cur))
      ps.push_back({"RecordInvalid", "is invalid", "currency_id"});
  } else if (*c == sales_invoices) {
    if (base) {
      auto st = str(base->value("status", json::object()), "id");
      if (st == "PAID" || st == "VOID")
        ps.push_back({"RecordInvalid", "A paid or voided invoice cannot be edited.", "status"});
    }
    blank("contact_id", "contact_id");
    if (auto cid = str(e, "contact_id"); !cid.empty() && contact_exists(cid).empty())
      ps.push_back({"RecordInvalid", "is invalid", "contact_id"});
    blank("date", "date");
    for (const char* d : {"date", "due_date"})
      if (auto v = str(e, d); !v.empty() && !is_day(v))
        ps.push_back({"RecordInvalid", "is not a valid date", d});
    if (auto cur = str(e, "currency_id"); !cur.empty() && !kCurrencies.count(cur))
      ps.push_back({"RecordInvalid", "is invalid", "currency_id"});
    auto lines = e.find("invoice_lines");
    if (!base && (lines == e.end() || !lines->is_array() || lines->empty()))
      ps.push_back({"RecordInvalid", "can't be blank", "invoice_lines"});
    if (lines != e.end() && lines->is_array())
      for (size_t i = 0; i < lines->size(); ++i) {
        const auto& l = (*lines)[i];
        std::string at_line = "invoice_lines[" + std::to_string(i) + "].";
        auto ledger = str(l, "ledger_account_id");
        bool income = std::any_of(std::begin(kIncome), std::end(kIncome),
                                  [&](size_t k) { return id_of(ledger_accounts, k) == ledger; });
        if (ledger.empty())
          ps.push_back({"RecordInvalid", "can't be blank", at_line + "ledger_account_id"});
        else if (!income)
          ps.push_back({"RecordInvalid", "is invalid", at_line + "ledger_account_id"});
        if (auto t = str(l, "tax_rate_id"); !t.empty() && !kTaxRates.count(t))
          ps.push_back({"RecordInvalid", "is invalid", at_line + "tax_rate_id"});
        if (str(l, "description").empty())
          ps.push_back({"RecordInvalid", "can't be blank", at_line + "description"});
        if (!dec(l.value("unit_price", json())))
          ps.push_back({"RecordInvalid", "is not a number", at_line + "unit_price"});
        if (l.contains("quantity") && !dec(l["quantity"]))
          ps.push_back({"RecordInvalid", "is not a number", at_line + "quantity"});
      }
  } else {
    auto type = value("transaction_type_id");
    if (type.empty() && base) type = str(base->value("transaction_type", json::object()), "id");
    if (type != "CUSTOMER_RECEIPT" && type != "CUSTOMER_REFUND")
      ps.push_back({"RecordInvalid", "is invalid", "transaction_type_id"});
    if (!base) blank("contact_id", "contact_id");
    if (auto cid = str(e, "contact_id"); !cid.empty() && contact_exists(cid).empty())
      ps.push_back({"RecordInvalid", "is invalid", "contact_id"});
    if (!base) blank("bank_account_id", "bank_account_id");
    if (auto b = str(e, "bank_account_id");
        !b.empty() && b != id_of(bank_accounts, 0) && b != id_of(bank_accounts, 1))
      ps.push_back({"RecordInvalid", "is invalid", "bank_account_id"});
    if (!base) blank("date", "date");
    if (auto d = str(e, "date"); !d.empty() && !is_day(d))
      ps.push_back({"RecordInvalid", "is not a valid date", "date"});
    auto total = dec(e.value("total_amount", json()));
    if ((!base || e.contains("total_amount")) && (!total || total->negative() || total->zero()))
      ps.push_back({"RecordInvalid", "must be greater than 0", "total_amount"});
    if (auto a = e.find("allocated_artefacts"); a != e.end() && a->is_array())
      for (size_t i = 0; i < a->size(); ++i) {
        std::string at_alloc = "allocated_artefacts[" + std::to_string(i) + "].";
        auto* inv = materialize(sales_invoices, str((*a)[i], "artefact_id"));
        auto amount = dec((*a)[i].value("amount", json()));
        if (!inv) {
          ps.push_back({"RecordInvalid", "is invalid", at_alloc + "artefact_id"});
          continue;
        }
        auto outstanding = dec(inv->body.value("outstanding_amount", json()));
        if (!amount || (outstanding && *amount > *outstanding))
          ps.push_back({"RecordInvalid",
                        "The amount allocated exceeds the outstanding amount of the invoice",
                        at_alloc + "amount"});
      }
  }
  if (!ps.empty()) return unprocessable(ps);

  bool create = !target;
  if (create) {
    auto nid = stable_uuid(mix64(opts_.seed ^ 0x5a9ec0de) ^ ++created_);
    std::erase(nid, '-');
    written_[*c].push_back({nid, json{{"id", nid}, {"created_at", iso_ms(now)}}, now});
    target = &written_[*c].back();
  }
  json& b = target->body;
  last_update_ms_ = std::max(now, last_update_ms_ + 1);
  target->updated_ms = last_update_ms_;
  b["$path"] = "/" + name + "/" + target->id;
  b["updated_at"] = iso_ms(target->updated_ms);
  if (*c == contacts) {
    if (create) {
      b["contact_types"] = json::array({link("CUSTOMER", "Customer", "/contact_types/CUSTOMER")});
      b["balance"] = "0.00";
      b["deletable"] = true;
    }
    for (const char* k : {"name", "reference", "tax_number"})
      if (e.contains(k)) b[k] = str(e, k);
    if (auto cur = str(e, "currency_id"); !cur.empty()) b["currency"] = currency_link(cur);
    if (auto p = e.find("main_contact_person"); p != e.end() && p->is_object()) {
      json person = b.value("main_contact_person", json::object());
      for (const auto& [k, v] : p->items()) person[k] = v;
      person["displayed_as"] = str(person, "name").empty() ? value("name") : str(person, "name");
      b["main_contact_person"] = person;
      if (p->contains("email")) b["email"] = str(*p, "email");
    }
    b["displayed_as"] = str(b, "name");
  } else if (*c == sales_invoices) {
    if (create) {
      b["transaction_type"] =
          link("SALES_INVOICE", "Sales Invoice", "/transaction_types/SALES_INVOICE");
      b["invoice_number"] = "SI-" + std::to_string(10000 + created_);
      b["total_paid"] = "0.00";
      b["exchange_rate"] = "1.0";
      b["currency"] = currency_link("GBP");
      b["invoice_lines"] = json::array();
    }
    b["displayed_as"] = str(b, "invoice_number");
    if (auto cid = str(e, "contact_id"); !cid.empty())
      b["contact"] = link(cid, contact_exists(cid), "/contacts/" + cid);
    for (const char* k : {"date", "due_date", "reference"})
      if (e.contains(k)) b[k] = str(e, k);
    if (str(b, "due_date").empty()) {
      auto t = parse_iso(str(b, "date") + "T00:00:00Z");
      b["due_date"] = day_of((t ? to_ms(*t) : now) + 30 * 86'400'000LL);
    }
    if (auto cur = str(e, "currency_id"); !cur.empty()) b["currency"] = currency_link(cur);
    if (auto lines = e.find("invoice_lines"); lines != e.end() && lines->is_array()) {
      json out = json::array();
      for (const auto& l : *lines) {
        auto q = dec(l.value("quantity", json("1"))).value_or(*decimal::parse("1"));
        auto u = *dec(l["unit_price"]);
        auto net = *product_or_zero(q, u).rescale(2, model::rounding::half_up);
        auto rate_id = str(l, "tax_rate_id");
        auto rate =
            kTaxRates.count(rate_id) ? *decimal::parse(kTaxRates.at(rate_id).first) : decimal{};
        auto tax = *product_or_zero(net, rate).rescale(2, model::rounding::half_up);
        auto ledger = str(l, "ledger_account_id");
        json x = {{"id", stable_uuid(mix64(created_) ^ last_update_ms_ ^ out.size())},
                  {"displayed_as", str(l, "description")},
                  {"description", str(l, "description")},
                  {"ledger_account", link(ledger, ledger, "/ledger_accounts/" + ledger)},
                  {"quantity", q.to_string()},
                  {"unit_price", u.to_string()},
                  {"net_amount", money(net)},
                  {"tax_amount", money(tax)},
                  {"total_amount", money(sum_or_first(net, tax))}};
        if (!rate_id.empty())
          x["tax_rate"] = link(rate_id, kTaxRates.at(rate_id).second, "/tax_rates/" + rate_id);
        out.push_back(std::move(x));
      }
      b["invoice_lines"] = std::move(out);
    }
    decimal net, tax;
    for (const auto& l : b["invoice_lines"]) {
      net = sum_or_first(net, dec(l.value("net_amount", json())).value_or(decimal{}));
      tax = sum_or_first(tax, dec(l.value("tax_amount", json())).value_or(decimal{}));
    }
    // A seeded invoice carries its totals but no lines: keep them.
    if (!b["invoice_lines"].empty()) {
      b["net_amount"] = money(net);
      b["tax_amount"] = money(tax);
      b["total_amount"] = money(sum_or_first(net, tax));
    }
    auto total = dec(b.value("total_amount", json("0"))).value_or(decimal{});
    auto paid = dec(b.value("total_paid", json("0"))).value_or(decimal{});
    auto outstanding = sum_or_first(total, -paid);
    b["outstanding_amount"] = money(outstanding);
    const char* st = outstanding.zero() && !total.zero() ? "PAID"
                     : paid.zero()                       ? "UNPAID"
                                                         : "PART_PAID";
    b["status"] = link(st, st, std::string("/artefact_statuses/") + st);
  } else {
    if (create) {
      b["payment_method"] =
          link("BANK_TRANSFER", "Bank Transfer", "/payment_methods/BANK_TRANSFER");
      b["tax_amount"] = "0.00";
      b["exchange_rate"] = "1.0";
      b["currency"] = currency_link("GBP");
      b["displayed_as"] = "Customer Receipt";
    }
    if (auto t = str(e, "transaction_type_id"); !t.empty())
      b["transaction_type"] =
          link(t, t == "CUSTOMER_RECEIPT" ? "Customer Receipt" : "Customer Refund",
               "/transaction_types/" + t);
    if (auto cid = str(e, "contact_id"); !cid.empty())
      b["contact"] = link(cid, contact_exists(cid), "/contacts/" + cid);
    if (auto bank = str(e, "bank_account_id"); !bank.empty())
      b["bank_account"] =
          link(bank, bank == id_of(bank_accounts, 0) ? "Current (1200)" : "Savings (1210)",
               "/bank_accounts/" + bank);
    for (const char* k : {"date", "reference"})
      if (e.contains(k)) b[k] = str(e, k);
    if (auto cur = str(e, "currency_id"); !cur.empty()) b["currency"] = currency_link(cur);
    if (e.contains("total_amount")) {
      auto t = money(*dec(e["total_amount"]));
      b["total_amount"] = t;
      b["net_amount"] = t;
    }
    if (auto a = e.find("allocated_artefacts"); a != e.end() && a->is_array()) {
      json out = json::array();
      for (const auto& x : *a) {
        auto* inv = materialize(sales_invoices, str(x, "artefact_id"));
        auto amount = *dec(x["amount"]);
        auto& ib = inv->body;
        auto paid =
            sum_or_first(dec(ib.value("total_paid", json("0"))).value_or(decimal{}), amount);
        auto total = dec(ib.value("total_amount", json("0"))).value_or(decimal{});
        auto outstanding = sum_or_first(total, -paid);
        ib["total_paid"] = money(paid);
        ib["outstanding_amount"] = money(outstanding);
        const char* st = outstanding.zero() ? "PAID" : "PART_PAID";
        ib["status"] = link(st, st, std::string("/artefact_statuses/") + st);
        last_update_ms_ += 1;
        inv->updated_ms = last_update_ms_;
        ib["updated_at"] = iso_ms(inv->updated_ms);
        out.push_back(
            {{"id", stable_uuid(mix64(created_) ^ last_update_ms_)},
             {"artefact", link(inv->id, str(ib, "invoice_number"), "/sales_invoices/" + inv->id)},
             {"amount", money(amount)}});
      }
      b["allocated_artefacts"] = std::move(out);
    }
  }
  auto ref = str(b, "reference");
  effects_.count("sage", kEntity[*c], ref.empty() ? target->id : ref,
                 create ? effect_log::effect::create : effect_log::effect::update);
  auto r = reply(create ? 201 : 200, b.dump());
  if (write_lost_ > 0) {
    --write_lost_;
    return reply(500, sage_error_text("InternalServerError", "Something went wrong."));
  }
  return r;
}

}  // namespace ledgersync::sandbox
