// QuickBooks Online entities (query and CDC responses) -> canonical records. Amounts are JSON
// numbers (kept exact from their text), links are {"value","name"} refs, dates "YYYY-MM-DD",
// MetaData times ISO 8601 with an offset. Change Data Capture reports a deletion as
// {"domain":"QBO","status":"Deleted","Id":...}: a tombstone.
#pragma once

#include <string>
#include <string_view>

#include "model/mapping.hpp"

namespace ledgersync::model {

struct quickbooks_context {
  // The company's home currency (CompanyInfo / Preferences): a company without multicurrency
  // may omit CurrencyRef.
  std::string home_currency;
};

mapped map_quickbooks_customer(std::string_view record, const quickbooks_context& ctx = {});
mapped map_quickbooks_invoice(std::string_view record, const quickbooks_context& ctx = {});
mapped map_quickbooks_payment(std::string_view record, const quickbooks_context& ctx = {});

}  // namespace ledgersync::model
