// libFuzzer target: model::parse_mt940 on arbitrary bytes.
#include "model/mt940.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::check_file(ledgersync::model::parse_mt940(fuzz::text(data, size)));
  return 0;
}
