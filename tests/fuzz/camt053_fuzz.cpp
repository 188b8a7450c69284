// libFuzzer target: model::parse_camt053 on arbitrary bytes.
#include "model/camt053.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::check_file(ledgersync::model::parse_camt053(fuzz::text(data, size)));
  return 0;
}
