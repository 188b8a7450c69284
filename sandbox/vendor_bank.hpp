// Bank statement files as a bank's file delivery writes them into a drop folder, for the
// bank_statement connector: camt.053.001.02 (XML) and MT940 (text). Statement `n` is always the
// same bytes for the same seed (its id, entries and their bank references derive from n), so
// writing it twice is a duplicate delivery; "malformed" writes a camt.053 cut off halfway.
//   POST /_sandbox/statements?format=camt053|mt940|malformed&n=N   (sandbox --statements-dir)
#pragma once

#include <cstdint>
#include <string>

namespace ledgersync::sandbox {

// Three entries (two credits, one debit) and an opening and a closing balance.
std::string camt053_statement(uint64_t seed, int n);
std::string mt940_statement(uint64_t seed, int n);

// Writes statement `n` of `format` into `dir` as stmt-<n>.<xml|sta> (stmt-<n>-broken.xml for
// "malformed"), by a rename so a reader never sees half a file. Returns the file's path, or ""
// with `error` set.
std::string write_statement(const std::string& dir, const std::string& format, uint64_t seed, int n,
                            std::string& error);

}  // namespace ledgersync::sandbox
