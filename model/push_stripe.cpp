#include "model/push_stripe.hpp"

namespace ledgersync::model {

namespace {

using nlohmann::json;

// application/x-www-form-urlencoded: every byte but the unreserved ones percent-encoded, as
// Stripe's own libraries send them (brackets of metadata[...] included).
std::string form_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

size_t length(const json& v) {
  return v.is_string() ? v.get_ref<const std::string&>().size() : 0;
}

}  // namespace

std::string stripe_customer_form(const json& fields, const std::string& external_id, bool create) {
  std::string out;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!out.empty()) out += '&';
    out += form_encode(k) + "=" + form_encode(v);
  };
  for (const char* k : {"name", "email", "phone"})
    if (auto v = fields.find(k); v != fields.end() && v->is_string())
      add(k, v->get_ref<const std::string&>());
  // An update keeps the key the record was created with: it is what finds the record again.
  if (create || !external_id.empty()) add("metadata[external_id]", external_id);
  return out;
}

std::vector<std::string> stripe_check(const json& f) {
  std::vector<std::string> out;
  auto limit = [&](const char* key, size_t max) {
    if (auto v = f.find(key); v != f.end() && length(*v) > max)
      out.push_back(std::string("fields.") + key + ": Stripe takes at most " + std::to_string(max) +
                    " characters");
  };
  limit("name", 256);
  limit("email", 512);
  limit("phone", 20);
  if (f.contains("tax_number"))
    out.push_back(
        "fields.tax_number: Stripe keeps tax ids as typed tax_id objects, not on the "
        "customer; leave tax_number out");
  if (f.contains("currency"))
    out.push_back(
        "fields.currency: Stripe sets a customer's currency from its first charge or "
        "invoice; leave currency out");
  if (auto s = f.find("status"); s != f.end() && *s != "active")
    out.push_back(
        "fields.status: Stripe has no archived customers (it deletes them); leave "
        "status out");
  return out;
}

stripe_error stripe_error_of(std::string_view body) {
  stripe_error e;
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return e;
  auto err = j.find("error");
  if (err == j.end() || !err->is_object()) return e;
  auto str = [&](const char* k) {
    auto v = err->find(k);
    return v != err->end() && v->is_string() ? v->get<std::string>() : std::string();
  };
  e.type = str("type");
  e.code = str("code");
  e.param = str("param");
  e.message = str("message");
  if (e.type.empty()) e.type = "api_error";
  return e;
}

std::string stripe_field(std::string_view param) {
  if (param == "name" || param == "email" || param == "phone") return std::string(param);
  if (param == "metadata[external_id]" || param == "metadata") return "external_id";
  return "";
}

}  // namespace ledgersync::model
