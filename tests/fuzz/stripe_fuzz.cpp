// libFuzzer target: Stripe objects, list pages and events.
#include "model/map_stripe.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace ledgersync::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  fuzz::check_mapped(map_stripe_object(in));
  fuzz::check_mapped(map_stripe_event(in));
  fuzz::check_mapped(map_stripe_customer(in));
  fuzz::check_mapped(map_stripe_invoice(in));
  auto recs = records_at(in, "/data");
  if (recs.ok()) {
    for (const auto& r : *recs.value) fuzz::check_mapped(map_stripe_object(r));
  }
  return 0;
}
