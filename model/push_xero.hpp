// Canonical push fields -> Xero Accounting API write bodies ({"Contacts":[…]}, {"Invoices":[…]},
// {"Payments":[…]}), and Xero's answers back: the ValidationException's messages by our field
// names, and a record's version (UpdatedDateUTC). Pure functions; the writer
// (connectors/xero_writer.cpp) decides when each is sent.
//
// The application's external_id lives on the Xero record: Contact.ContactNumber, and
// Reference on invoices and payments (so an item's own `reference` cannot be pushed to Xero).
// Amounts go out as JSON numbers written from the decimal's own text, never through a double.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace ledgersync::model {

// A value that dump_exact() writes as the bare number `decimal_text` (validated by the caller).
nlohmann::json exact_number(const std::string& decimal_text);
// `j` as JSON text with every exact_number spliced in as a number.
std::string dump_exact(const nlohmann::json& j);
// A push's decimal string ("12.5") as exact_number, or the default when absent.
nlohmann::json exact_decimal_field(const nlohmann::json& fields, const char* key,
                                   const char* def = nullptr);

// `vendor_id` "" for a create; else the record's Xero id (ContactID, InvoiceID).
std::string xero_contact_body(const nlohmann::json& fields, const std::string& external_id,
                              const std::string& vendor_id);
std::string xero_invoice_body(const nlohmann::json& fields, const std::string& external_id,
                              const std::string& vendor_id);
std::string xero_payment_body(const nlohmann::json& fields, const std::string& external_id);

// Xero's 400 {"Type":"ValidationException","Elements":[{…,"ValidationErrors":[{"Message"}]}]}
// (line items' own ValidationErrors too) as problems named by our fields: "email",
// "lines/1/account_code", "" when the message names none we know. Empty when `body` is not one.
std::vector<problem> xero_validation_errors(std::string_view body, const std::string& entity,
                                            const nlohmann::json& fields);

// The collection a canonical entity is written to: Contacts, Invoices, Payments ("" for others).
std::string xero_collection(const std::string& entity);
// Its id field: ContactID, InvoiceID, PaymentID.
std::string xero_id_field(const std::string& entity);
// A Xero record's UpdatedDateUTC as Xero wrote it ("/Date(1551213567813+0000)/"); "" if none.
std::string xero_version(const nlohmann::json& record);
// Whether two versions name the same instant; each may be Xero's /Date()/ or ISO 8601.
bool same_xero_version(const std::string& a, const std::string& b);

}  // namespace ledgersync::model
