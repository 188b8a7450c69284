// Canonical customer push items -> Stripe's application/x-www-form-urlencoded bodies for
// POST /v1/customers and /v1/customers/{id}, and Stripe's error bodies -> our field names.
// The external_id is kept in metadata[external_id] (metadata is Stripe's place for an
// integration's own keys, and /v1/customers/search finds a customer by it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ledgersync::model {

// The form body of a create (`create`: with metadata[external_id]) or an update.
std::string stripe_customer_form(const nlohmann::json& fields, const std::string& external_id,
                                 bool create);
// Stripe's own limits, each "fields.NAME: why"; also what Stripe cannot take from us.
std::vector<std::string> stripe_check(const nlohmann::json& fields);

struct stripe_error {
  std::string type, code, param, message;
};
// The error of {"error":{"type","code","param","message"}}; type empty when `body` is none.
stripe_error stripe_error_of(std::string_view body);
// Our field name for a `param` ("email" -> "email", "metadata[external_id]" -> "external_id");
// "" when it names none of ours.
std::string stripe_field(std::string_view param);

}  // namespace ledgersync::model
