// Reads files under tests/fixtures/ for the model tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(LEDGERSYNC_SOURCE_DIR) + "/tests/fixtures/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
