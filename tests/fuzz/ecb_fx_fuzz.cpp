// libFuzzer target: model::parse_ecb_fx on arbitrary bytes.
#include "model/ecb_fx.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::check_file(ledgersync::model::parse_ecb_fx(fuzz::text(data, size)));
  return 0;
}
