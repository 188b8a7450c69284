// Xero Accounting API records (api.xro/2.0) -> canonical records. Amounts are JSON numbers in
// Xero's bodies, read from their own text (model/exact_json.hpp); dates are "/Date(ms+zone)/".
// Tombstones: Invoice Status DELETED or VOIDED, Payment DELETED, BankTransaction DELETED or
// VOIDED, Account DELETED (contacts are only ever ARCHIVED: a status, not a deletion).
#pragma once

#include <string>
#include <string_view>

#include "model/mapping.hpp"

namespace ledgersync::model {

struct xero_context {
  // The organisation's base currency (GET /Organisation BaseCurrency): a Payment names no
  // currency when it pays a credit note or overpayment; it is in the base currency then.
  std::string base_currency;
};

mapped map_xero_invoice(std::string_view record, const xero_context& ctx = {});
mapped map_xero_contact(std::string_view record, const xero_context& ctx = {});
mapped map_xero_payment(std::string_view record, const xero_context& ctx = {});
mapped map_xero_bank_transaction(std::string_view record, const xero_context& ctx = {});
mapped map_xero_account(std::string_view record, const xero_context& ctx = {});

}  // namespace ledgersync::model
