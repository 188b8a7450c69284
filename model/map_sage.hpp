// Sage Business Cloud Accounting v3.1 records (with attributes=all) -> canonical records.
// Sage writes amounts as decimal strings ("120.0", not at the currency's exponent: they are
// normalised) and links as {"id","displayed_as","$path"}. Deletions arrive separately, from
// `deleted_since` ({"id", "deleted_at"}): map_sage_deleted makes those tombstones.
#pragma once

#include <string>
#include <string_view>

#include "model/mapping.hpp"

namespace ledgersync::model {

struct sage_context {
  // The business's base currency (GET /financial_settings base_currency): records in it may
  // omit `currency`.
  std::string base_currency;
};

mapped map_sage_contact(std::string_view record, const sage_context& ctx = {});
mapped map_sage_sales_invoice(std::string_view record, const sage_context& ctx = {});
mapped map_sage_contact_payment(std::string_view record, const sage_context& ctx = {});
mapped map_sage_ledger_account(std::string_view record, const sage_context& ctx = {});
// A `deleted_since` entry for `entity` ("invoice", "customer", ...).
mapped map_sage_deleted(std::string_view record, std::string_view entity);

}  // namespace ledgersync::model
