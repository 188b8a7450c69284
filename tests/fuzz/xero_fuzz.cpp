// libFuzzer target: a Xero page cut into records, each through every Xero mapper; the input
// as one record too.
#include "model/map_xero.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace ledgersync::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::text(data, size);
  xero_context ctx{"NZD"};
  auto all = [&](std::string_view rec) {
    fuzz::check_mapped(map_xero_invoice(rec, ctx));
    fuzz::check_mapped(map_xero_contact(rec, ctx));
    fuzz::check_mapped(map_xero_payment(rec, ctx));
    fuzz::check_mapped(map_xero_bank_transaction(rec, ctx));
    fuzz::check_mapped(map_xero_account(rec, ctx));
  };
  all(in);
  for (const char* p : {"/Invoices", "/Contacts", "/Payments", "/BankTransactions", "/Accounts"}) {
    auto recs = records_at(in, p);
    if (recs.ok()) {
      for (const auto& r : *recs.value) all(r);
    }
  }
  return 0;
}
