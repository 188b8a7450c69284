// Canonical push fields -> Sage Business Cloud Accounting v3.1 write bodies
// ({"contact":{…}}, {"sales_invoice":{…}}, {"contact_payment":{…}}), and Sage's answers back:
// its 422 array [{"$severity","$dataCode","$message","$source"}] by our field names, and a
// record's version (updated_at). Pure functions; connectors/sage_writer.cpp sends them.
//
// Sage has no idempotency key: the application's external_id is the record's `reference`
// (contacts, sales invoices, contact payments alike), which a resumed create looks up first.
// Sage names its own records by id: an invoice line's account_code is a ledger_account_id,
// tax_code a tax_rate_id, item_code a product_id; a payment's account a bank_account_id.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace ledgersync::model {

std::string sage_contact_body(const nlohmann::json& fields, const std::string& external_id);
std::string sage_invoice_body(const nlohmann::json& fields, const std::string& external_id);
std::string sage_payment_body(const nlohmann::json& fields, const std::string& external_id);

// The endpoint of an entity (contacts, sales_invoices, contact_payments; "" for others) and the
// key its body is wrapped in (contact, sales_invoice, contact_payment).
std::string sage_collection(const std::string& entity);
std::string sage_wrapper(const std::string& entity);

// Sage's error array as problems by our field names ("name", "lines/0/account_code"; "" when
// $source names nothing we send). Empty when `body` is not such an array.
std::vector<problem> sage_validation_errors(std::string_view body, const std::string& entity);
// The field of ours a Sage $source names ("invoice_lines[1].ledger_account_id" ->
// "lines/1/account_code"), "" when none.
std::string sage_field_of_source(const std::string& source, const std::string& entity);

}  // namespace ledgersync::model
