// Reading the change feed the way a consumer tails it: from a sequence number, optionally one
// integration's entries only, optionally with each record's current body, times in ISO 8601.
// Every read is bounded (at most `max_scan` entries looked at), and says where it stopped so
// the caller continues from there; `caught_up` tells a long poll that waiting is what is left.
// Plain code over `storage`'s reads: thread-safe as those are.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "storage/storage.hpp"

namespace ledgersync {

struct feed_query {
  uint64_t since = 0;         // entries after this sequence number
  size_t limit = 1000;        // at most this many entries returned
  std::string integration;    // "" = every integration
  bool with_records = false;  // add `record`: the record's current body, null when gone
  size_t max_scan = 10000;    // at most this many entries looked at
};

struct feed_page {
  nlohmann::json changes = nlohmann::json::array();
  uint64_t next_since = 0;  // continue from here (the last entry looked at)
  bool caught_up = false;   // the read reached the end of the feed
};

feed_page read_feed(storage& store, const feed_query& q);

// A stored change entry as readers see it: the stored epoch `at_ms` becomes ISO 8601 UTC `at`
// (entries already stored read right too).
nlohmann::json change_entry_json(std::string_view doc);

}  // namespace ledgersync
