// The sandbox's QuickBooks writes (vendor_quickbooks.hpp lists them): creates, sparse and full
// updates with SyncToken checks, requestid replay, and Faults worded as QuickBooks words them.
#include <algorithm>

#include "core/time_util.hpp"
#include "model/decimal.hpp"
#include "sandbox/vendor_quickbooks.hpp"

namespace ledgersync::sandbox {

namespace {

using nlohmann::json;

enum entity { customer, invoice, payment };
const char* const kPaths[] = {"customer", "invoice", "payment"};
const char* const kEffectNames[] = {"customer", "invoice", "payment"};

std::string qbo_time(int64_t ms) {  // as vendor_quickbooks.cpp: the company is on UTC-07:00
  return format_iso(from_ms(ms / 1000 * 1000 - 7 * 3'600'000)).substr(0, 19) + "-07:00";
}

struct fault {
  int status = 400;
  std::string code, message, detail, element, type = "ValidationFault";
};

vendor_response answer(const fault& f, int64_t now) {
  vendor_response r;
  r.status = f.status;
  r.body = json{{"Fault",
                 {{"Error", json::array({{{"Message", f.message},
                                          {"Detail", f.detail},
                                          {"code", f.code},
                                          {"element", f.element}}})},
                  {"type", f.type}}},
                {"time", qbo_time(now)}}
               .dump();
  return r;
}

fault missing(const std::string& element) {
  return {400, "2020", "Required param missing, need to supply the required value for the API",
          "Required parameter " + element + " is missing in the request", element};
}

fault too_long(const std::string& element, size_t max, size_t got) {
  return {400, "2050", "String length is either shorter or longer than supported by specification",
          "String length specified does not match the supported length. Min:0 Max:" +
              std::to_string(max) + " supplied:" + std::to_string(got),
          element};
}

std::string text(const json& j, const char* pointer) {
  auto p = json::json_pointer(pointer);
  return j.contains(p) && j[p].is_string() ? j[p].get<std::string>() : "";
}

std::optional<model::decimal> amount(const json& v) {
  if (!v.is_number()) return std::nullopt;
  auto d = model::decimal::parse(v.dump());
  if (!d.ok()) return std::nullopt;
  return *d;
}

}  // namespace

json quickbooks_api::current(size_t e, size_t idx) const {
  if (auto s = stored_.find({e, idx}); s != stored_.end()) return s->second;
  std::string text;
  render(e, idx, text);
  auto j = json::parse(text);
  for (const char* k : {"Id", "SyncToken", "domain", "sparse", "MetaData"}) j.erase(k);
  return j;
}

void quickbooks_api::render_stored(size_t e, size_t idx, const json& stored,
                                   std::string& out) const {
  const auto& r = colls_[e].recs[idx];
  json j = stored;
  j["Id"] = std::to_string(e * 10000 + idx + 1);
  j["SyncToken"] = std::to_string(r.version - 1);
  j["domain"] = "QBO";
  j["sparse"] = false;
  j["MetaData"] = {{"CreateTime", qbo_time(r.created_ms)},
                   {"LastUpdatedTime", qbo_time(r.updated_ms)}};
  if (e == customer && r.deleted) j["Active"] = false;
  out += j.dump();
}

vendor_response quickbooks_api::entity_request(const vendor_request& req, const std::string& op,
                                               int64_t now) {
  auto slash = op.find('/');
  std::string name = op.substr(0, slash);
  auto e = std::find(std::begin(kPaths), std::end(kPaths), name) - std::begin(kPaths);
  if (e == 3)
    return answer({404, "404", "Unsupported operation", "/" + op, "", "ValidationFault"}, now);
  if (slash != std::string::npos) {
    if (req.method != "GET")
      return answer({405, "405", "Only GET reads one record", "", "", "ValidationFault"}, now);
    auto id = read_count(op.substr(slash + 1));
    size_t idx = id && *id > e * 10000 ? static_cast<size_t>(*id - e * 10000 - 1) : SIZE_MAX;
    auto& recs = colls_[static_cast<size_t>(e)].recs;
    if (idx >= recs.size() || (recs[idx].deleted && e != customer))
      return answer({400, "610", "Object Not Found",
                     "Object Not Found : Something you're trying to use has been made inactive. "
                     "Check the fields with accounts, customers, items, vendors or employees.",
                     ""},
                    now);
    vendor_response r;
    std::string body;
    render(static_cast<size_t>(e), idx, body);
    r.body = "{\"" + entities()[static_cast<size_t>(e)] + "\":" + body + ",\"time\":\"" +
             qbo_time(now) + "\"}";
    return r;
  }
  if (req.method != "POST")
    return answer({405, "405", "Use POST to create or update", "", "", "ValidationFault"}, now);
  std::string key = req.param("requestid");
  if (key.size() > 50) return answer(too_long("requestid", 50, key.size()), now);
  if (!key.empty())
    if (auto seen = replies_.find(name + " " + key); seen != replies_.end()) return seen->second;
  std::string forced;
  if (!write_faults_.empty())
    forced = write_faults_.front(), write_faults_.erase(write_faults_.begin());
  if (forced == "write_429")
    return answer({429, "3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                   "The request limit was reached.", "", "ThrottleExceeded"},
                  now);
  if (forced == "write_500")
    return answer({500, "10000", "An application error has occurred while processing your request",
                   "System Failure Error: sandbox write fault", "", "SystemFault"},
                  now);
  auto r = write(static_cast<size_t>(e), req, now);
  if (r.status == 200 && !key.empty()) replies_[name + " " + key] = r;
  if (forced == "write_lost" && r.status == 200)
    return answer({500, "10000", "An application error has occurred while processing your request",
                   "System Failure Error: the answer was lost", "", "SystemFault"},
                  now);
  return r;
}

vendor_response quickbooks_api::write(size_t e, const vendor_request& req, int64_t now) {
  auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object())
    return answer(
        {400, "2310", "Invalid Request Body",
         "Request has invalid or unsupported property: the body is not a JSON object", ""},
        now);
  auto& recs = colls_[e].recs;
  std::optional<size_t> idx;
  if (body.contains("Id")) {
    auto id = read_count(body["Id"].is_string() ? body["Id"].get<std::string>() : "");
    size_t i = id && *id > static_cast<long>(e * 10000) ? static_cast<size_t>(*id) - e * 10000 - 1
                                                        : SIZE_MAX;
    if (i >= recs.size() || (recs[i].deleted && e != customer))
      return answer({400, "610", "Object Not Found",
                     "Object Not Found : Something you're trying to use has been made inactive. "
                     "Check the fields with accounts, customers, items, vendors or employees.",
                     ""},
                    now);
    if (!body.contains("SyncToken") || !body["SyncToken"].is_string())
      return answer(missing("SyncToken"), now);
    if (body["SyncToken"] != std::to_string(recs[i].version - 1))
      return answer({400, "5010", "Stale Object Error",
                     "Stale Object Error : You and sandbox were working on this at the same "
                     "time. sandbox finished before you did, so your work was not saved.",
                     ""},
                    now);
    idx = i;
  }
  // The record as it would be: a sparse update merges the fields sent into the current ones.
  json rec = idx && body.value("sparse", false) ? current(e, *idx) : json::object();
  for (const auto& [k, v] : body.items())
    if (k != "Id" && k != "SyncToken" && k != "sparse" && k != "MetaData" && k != "domain")
      rec[k] = v;
  const char* ref_field = e == customer ? "Notes" : "PrivateNote";
  if (e == customer) {
    std::string name = text(rec, "/DisplayName");
    if (name.empty()) return answer(missing("DisplayName"), now);
    if (name.size() > 500) return answer(too_long("DisplayName", 500, name.size()), now);
    for (size_t i = 0; i < recs.size(); ++i) {
      if (idx && i == *idx) continue;
      std::string other;
      render(e, i, other);
      if (json::parse(other).value("DisplayName", "") == name)
        return answer({400, "6240", "Duplicate Name Exists Error",
                       "The name supplied already exists. : Another customer, vendor or "
                       "employee is already using this name. Please use a different name.",
                       ""},
                      now);
    }
  } else {
    if (text(rec, "/CustomerRef/value").empty()) return answer(missing("CustomerRef"), now);
    auto cust = read_count(text(rec, "/CustomerRef/value"));
    if (!cust || *cust < 1 || static_cast<size_t>(*cust) > colls_[customer].recs.size())
      return answer(
          {400, "2500", "Invalid Reference Id",
           "Invalid Reference Id : Customer " + text(rec, "/CustomerRef/value") + " does not exist",
           "CustomerRef"},
          now);
  }
  model::decimal total;
  if (e == invoice) {
    if (auto n = text(rec, "/DocNumber"); n.size() > 21)
      return answer(too_long("DocNumber", 21, n.size()), now);
    if (!rec.contains("Line") || !rec["Line"].is_array() || rec["Line"].empty())
      return answer(missing("Line"), now);
    for (size_t i = 0; i < rec["Line"].size(); ++i) {
      const auto& l = rec["Line"][i];
      std::string at = "Line[" + std::to_string(i + 1) + "]";
      auto a = l.contains("Amount") ? amount(l["Amount"]) : std::nullopt;
      if (!a) return answer(missing(at + ".Amount"), now);
      const auto& d = l.value("SalesItemLineDetail", json::object());
      auto q = d.contains("Qty") ? amount(d["Qty"]) : std::nullopt;
      auto p = d.contains("UnitPrice") ? amount(d["UnitPrice"]) : std::nullopt;
      if (q && p &&
          std::abs(std::stod(q->to_string()) * std::stod(p->to_string()) -
                   std::stod(a->to_string())) > 0.005)
        return answer({400, "6070", "Amount is not equal to UnitPrice * Qty",
                       "Amount is not equal to UnitPrice * Qty. Supplied value:" + a->to_string(),
                       at + ".Amount"},
                      now);
      total = *total.plus(*a);
    }
    rec["TotalAmt"] = std::stod(total.to_string());
    rec["Balance"] = rec["TotalAmt"];
    rec["TxnTaxDetail"] = {{"TotalTax", 0}};
  } else if (e == payment) {
    if (!rec.contains("TotalAmt") || !amount(rec["TotalAmt"]))
      return answer(missing("TotalAmt"), now);
    if (rec.contains("Line") && rec["Line"].is_array())
      for (const auto& l : rec["Line"])
        for (const auto& t : l.value("LinkedTxn", json::array())) {
          auto inv = read_count(t.value("TxnId", ""));
          if (!inv || *inv <= 10000 ||
              static_cast<size_t>(*inv - 10001) >= colls_[invoice].recs.size())
            return answer(
                {400, "2500", "Invalid Reference Id",
                 "Invalid Reference Id : Invoice " + t.value("TxnId", "") + " does not exist",
                 "Line.LinkedTxn"},
                now);
        }
    rec["UnappliedAmt"] = 0;
  }
  if (auto n = text(rec, std::string("/").append(ref_field).c_str()); n.size() > 4000)
    return answer(too_long(ref_field, 4000, n.size()), now);
  effect_log::effect what = effect_log::effect::update;
  if (idx) {
    auto& r = recs[*idx];
    r.version++;
    r.updated_ms = std::max(now, r.updated_ms + 1);
  } else {
    vendor_record r;
    r.created_ms = r.updated_ms = now;
    recs.push_back(r);
    idx = recs.size() - 1;
    what = effect_log::effect::create;
  }
  stored_[{e, *idx}] = rec;
  std::string ref = text(rec, std::string("/").append(ref_field).c_str());
  effects_.count("quickbooks", kEffectNames[e],
                 ref.empty() ? "Id " + std::to_string(e * 10000 + *idx + 1) : ref, what);
  vendor_response r;
  std::string out;
  render(e, *idx, out);
  r.body = "{\"" + entities()[e] + "\":" + out + ",\"time\":\"" + qbo_time(now) + "\"}";
  return r;
}

}  // namespace ledgersync::sandbox
