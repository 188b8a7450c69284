// Stripe API objects -> canonical records. Amounts are integer minor units in the object's
// currency (lower-case ISO code); times are Unix seconds. Tombstones: an object with
// "deleted": true (what DELETE and a deleted customer's GET return) and the object inside a
// "*.deleted" event. Charges, payment intents and balance transactions are never deleted.
#pragma once

#include <string_view>

#include "model/mapping.hpp"

namespace ledgersync::model {

mapped map_stripe_customer(std::string_view record);
mapped map_stripe_charge(std::string_view record);          // -> payment
mapped map_stripe_payment_intent(std::string_view record);  // -> payment
mapped map_stripe_invoice(std::string_view record);
mapped map_stripe_balance_transaction(std::string_view record);  // -> bank_transaction
// Any of the above by its "object" member.
mapped map_stripe_object(std::string_view record);
// A /v1/events entry: its data.object mapped, a tombstone for "*.deleted" types.
mapped map_stripe_event(std::string_view event);

}  // namespace ledgersync::model
