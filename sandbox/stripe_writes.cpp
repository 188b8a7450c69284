// The sandbox's Stripe customer writes (vendor_stripe.hpp lists them): creates and updates from
// form bodies, Stripe's validation errors, the search by metadata, and Idempotency-Key replay.
#include <regex>

#include "sandbox/vendor_stripe.hpp"

namespace ledgersync::sandbox {

namespace {

using nlohmann::json;

constexpr size_t customers = 0;  // the index of "customers" in collections()

vendor_response error(vendor_response r, int status, const std::string& type,
                      const std::string& code, const std::string& message,
                      const std::string& param = "") {
  json e{{"type", type}, {"message", message}};
  if (!code.empty()) {
    e["code"] = code;
    e["doc_url"] = "https://stripe.com/docs/error-codes/" + code;
  }
  if (!param.empty()) e["param"] = param;
  r.status = status;
  r.body = json{{"error", e}}.dump();
  return r;
}

}  // namespace

vendor_response stripe_api::customer_request(const vendor_request& req, int64_t now,
                                             vendor_response r) {
  const std::string prefix = "/customers";
  std::string rest = req.path.rfind(prefix, 0) == 0 ? req.path.substr(prefix.size()) : "-";
  if (rest != "" && (rest.size() < 2 || rest[0] != '/' || rest.find('/', 1) != std::string::npos))
    return error(std::move(r), 404, "invalid_request_error", "",
                 "Unrecognized request URL (" + req.method + ": /v1" + req.path + ")");
  std::string id = rest.empty() ? "" : rest.substr(1);
  auto& recs = colls_[customers].recs;
  if (req.method == "GET" && id == "search") {
    static const std::regex grammar(R"(^\s*metadata\['([^']+)'\]\s*:\s*'((?:[^'\\]|\\.)*)'\s*$)");
    std::smatch m;
    std::string q = req.param("query");
    if (!std::regex_match(q, m, grammar))
      return error(std::move(r), 400, "invalid_request_error", "parameter_invalid_string",
                   "The sandbox's search understands metadata['KEY']:'VALUE' only", "query");
    std::string key = m[1], quoted = m[2], value;
    for (size_t i = 0; i < quoted.size(); ++i) {
      char ch = quoted[i];
      if (ch == '\\' && i + 1 < quoted.size()) ch = quoted[++i];
      value += ch;
    }
    std::string data;
    for (const auto& [idx, j] : stored_) {
      if (recs[idx].deleted) continue;
      auto meta = j.value("metadata", json::object());
      if (meta.value(key, "") != value || value.empty()) continue;
      if (!data.empty()) data += ',';
      data += j.dump();
    }
    r.body = "{\"object\":\"search_result\",\"data\":[" + data +
             "],\"has_more\":false,\"next_page\":null,\"url\":\"/v1/customers/search\"}";
    return r;
  }
  if (req.method == "GET") {
    for (size_t i = 0; i < recs.size(); ++i)
      if (object_id(customers, i) == id && !recs[i].deleted) {
        render(customers, i, r.body);
        return r;
      }
    return error(std::move(r), 404, "invalid_request_error", "resource_missing",
                 "No such customer: '" + id + "'", "id");
  }
  if (req.method != "POST")
    return error(std::move(r), 405, "invalid_request_error", "",
                 "Unrecognized request URL (" + req.method + ": /v1" + req.path + ")");
  std::string key = req.header("idempotency-key");
  std::string fingerprint = req.method + " " + req.path + "\n" + req.body;
  if (key.size() > 255)
    return error(std::move(r), 400, "invalid_request_error", "",
                 "Idempotency-Key must be at most 255 characters", "Idempotency-Key");
  if (!key.empty())
    if (auto seen = replies_.find(key); seen != replies_.end()) {
      if (seen->second.request != fingerprint)
        return error(std::move(r), 400, "idempotency_error", "",
                     "Keys for idempotent requests can only be used with the same parameters "
                     "they were first used with. Try using a key other than '" +
                         key + "' if you meant to execute a different request.");
      auto replay = seen->second.answer;
      replay.set("Idempotent-Replayed", "true");
      replay.set("Request-Id", r.header("Request-Id"));
      return replay;
    }
  std::string forced;
  if (!write_faults_.empty())
    forced = write_faults_.front(), write_faults_.erase(write_faults_.begin());
  if (forced == "write_429")
    return error(std::move(r), 429, "invalid_request_error", "rate_limit",
                 "Too many requests hit the API too quickly. We recommend an exponential backoff "
                 "of your requests.");
  if (forced == "write_500")
    return error(std::move(r), 500, "api_error", "",
                 "An unknown error occurred (a sandbox write fault)");
  auto out = write_customer(req, id, now, r);
  if (!key.empty() && out.status == 200) {
    out.set("Idempotency-Key", key);
    replies_[key] = {fingerprint, out};
  }
  if (forced == "write_lost" && out.status == 200)
    return error(std::move(r), 500, "api_error", "",
                 "An unknown error occurred (the sandbox lost the answer)");
  return out;
}

vendor_response stripe_api::write_customer(const vendor_request& req, const std::string& id,
                                           int64_t now, vendor_response r) {
  auto& recs = colls_[customers].recs;
  std::optional<size_t> idx;
  if (!id.empty()) {
    for (size_t i = 0; i < recs.size() && !idx; ++i)
      if (object_id(customers, i) == id && !recs[i].deleted) idx = i;
    if (!idx)
      return error(std::move(r), 404, "invalid_request_error", "resource_missing",
                   "No such customer: '" + id + "'", "id");
  }
  json c;
  if (idx) {
    std::string text;
    render(customers, *idx, text);
    c = json::parse(text);
  } else {
    size_t i = recs.size();
    c = {{"id", object_id(customers, i)},
         {"object", "customer"},
         {"address", nullptr},
         {"balance", 0},
         {"created", now / 1000},
         {"currency", nullptr},
         {"default_source", nullptr},
         {"delinquent", false},
         {"description", nullptr},
         {"email", nullptr},
         {"invoice_prefix", stable_token(mix64(opts_.seed ^ i), 7)},
         {"invoice_settings",
          {{"custom_fields", nullptr},
           {"default_payment_method", nullptr},
           {"footer", nullptr},
           {"rendering_options", nullptr}}},
         {"livemode", false},
         {"metadata", json::object()},
         {"name", nullptr},
         {"next_invoice_sequence", 1},
         {"phone", nullptr},
         {"preferred_locales", json::array()},
         {"shipping", nullptr},
         {"tax_exempt", "none"},
         {"test_clock", nullptr}};
  }
  static const std::regex metadata_key(R"(^metadata\[([^\]]*)\]$)");
  for (const auto& [k, v] : parse_form(req.body)) {
    std::smatch m;
    if (k == "name" || k == "email" || k == "phone" || k == "description") {
      size_t max = k == "phone" ? 20 : k == "email" ? 512 : k == "name" ? 256 : 350;
      if (v.size() > max)
        return error(std::move(r), 400, "invalid_request_error", "",
                     "Invalid string: " + v.substr(0, 20) + "...; must be at most " +
                         std::to_string(max) + " characters",
                     k);
      if (k == "email" && !v.empty() &&
          (v.find('@') == std::string::npos || v.find('@') == 0 || v.back() == '@'))
        return error(std::move(r), 400, "invalid_request_error", "email_invalid",
                     "Invalid email address: " + v, "email");
      c[k] = v.empty() ? json(nullptr) : json(v);
    } else if (std::regex_match(k, m, metadata_key)) {
      std::string mk = m[1];
      if (mk.empty() || mk.size() > 40)
        return error(std::move(r), 400, "invalid_request_error", "",
                     "Metadata keys can have up to 40 characters, and cannot be empty", "metadata");
      if (v.size() > 500)
        return error(std::move(r), 400, "invalid_request_error", "",
                     "Metadata values can have up to 500 characters, but you passed in a value "
                     "that is " +
                         std::to_string(v.size()) + " characters.",
                     k);
      if (v.empty())
        c["metadata"].erase(mk);
      else
        c["metadata"][mk] = v;
    } else {
      return error(std::move(r), 400, "invalid_request_error", "parameter_unknown",
                   "Received unknown parameter: " + k, k);
    }
  }
  if (idx) {
    auto& rec = recs[*idx];
    rec.version++;
    rec.updated_ms = std::max(now, rec.updated_ms + 1);
  } else {
    vendor_record rec;
    rec.created_ms = rec.updated_ms = now / 1000 * 1000;
    recs.push_back(rec);
    idx = recs.size() - 1;
  }
  stored_[*idx] = c;
  add_event(customers, *idx, id.empty() ? "customer.created" : "customer.updated", now / 1000);
  std::string ref = c["metadata"].value("external_id", "");
  effects_.count("stripe", "customer", ref.empty() ? c["id"].get<std::string>() : ref,
                 id.empty() ? effect_log::effect::create : effect_log::effect::update);
  r.body = c.dump();
  return r;
}

}  // namespace ledgersync::sandbox
