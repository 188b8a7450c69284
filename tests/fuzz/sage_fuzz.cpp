// libFuzzer target: Sage v3.1 records and $items pages through every Sage mapper.
#include "model/map_sage.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace ledgersync::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  sage_context ctx{"GBP"};
  auto all = [&](std::string_view rec) {
    fuzz::check_mapped(map_sage_contact(rec, ctx));
    fuzz::check_mapped(map_sage_sales_invoice(rec, ctx));
    fuzz::check_mapped(map_sage_contact_payment(rec, ctx));
    fuzz::check_mapped(map_sage_ledger_account(rec, ctx));
    fuzz::check_mapped(map_sage_deleted(rec, "invoice"));
  };
  all(in);
  auto recs = records_at(in, "/$items");
  if (recs.ok()) {
    for (const auto& r : *recs.value) all(r);
  }
  return 0;
}
