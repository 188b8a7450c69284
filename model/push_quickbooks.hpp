// Canonical push items -> QuickBooks Online v3 write bodies (Customer, Invoice, Payment), and
// QuickBooks' Fault bodies -> our field names. Plain functions: the writer
// (connectors/quickbooks_writer.cpp) sends, these only build and read.
//
// The application's external_id is kept ON the record, in a memo field QuickBooks leaves to the
// app and never prints: Customer.Notes, Invoice.PrivateNote, Payment.PrivateNote. (The reading
// connector maps an invoice's PrivateNote to `reference`, so a pushed invoice may not carry a
// reference: check refuses it.) Amounts go out as JSON numbers spliced from the decimal text,
// never through a double.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace ledgersync::model {

// "Customer", "Invoice", "Payment" for our entity; "" for any other.
std::string quickbooks_entity(std::string_view entity);
// The memo field the external_id is kept in ("Notes", "PrivateNote").
const char* quickbooks_ref_field(std::string_view entity);

// The body of a create (`id` empty) or of a sparse update (`id` and `sync_token` given) of
// `entity` from canonical `fields` (references already resolved to QuickBooks ids).
result<std::string> quickbooks_body(std::string_view entity, const nlohmann::json& fields,
                                    const std::string& external_id, const std::string& id,
                                    const std::string& sync_token);

// QuickBooks' own limits on `fields`, each "fields.NAME: why" (push_writer::check's form).
std::vector<std::string> quickbooks_check(std::string_view entity, bool create,
                                          const nlohmann::json& fields);

// One Error of a Fault body.
struct quickbooks_fault {
  std::string type, code, message, detail, element;
};
// The errors of a Fault body ({"Fault":{"Error":[…],"type"}}; 401s spell it in lower case);
// empty when `body` is no Fault.
std::vector<quickbooks_fault> quickbooks_faults(std::string_view body);
// Our field name for a Fault's `element` ("DisplayName" -> "name", "Line[1].Amount" ->
// "lines/0"), or for its code when the element is empty (6240 -> "name"); "" when unknown.
std::string quickbooks_field(std::string_view entity, const quickbooks_fault& f);

}  // namespace ledgersync::model
