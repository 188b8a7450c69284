// libFuzzer target: QuickBooks query pages and records through every QuickBooks mapper.
#include "model/map_quickbooks.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace ledgersync::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  quickbooks_context ctx{"USD"};
  auto all = [&](std::string_view rec) {
    fuzz::check_mapped(map_quickbooks_customer(rec, ctx));
    fuzz::check_mapped(map_quickbooks_invoice(rec, ctx));
    fuzz::check_mapped(map_quickbooks_payment(rec, ctx));
  };
  all(in);
  for (const char* p :
       {"/QueryResponse/Invoice", "/QueryResponse/Customer", "/QueryResponse/Payment"}) {
    auto recs = records_at(in, p);
    if (recs.ok()) {
      for (const auto& r : *recs.value) all(r);
    }
  }
  return 0;
}
