// Reading what was synced the way clients page it. The change feed as a consumer tails it: from
// a sequence number, optionally one integration's entries only, optionally with each record's
// current body, times in ISO 8601, each entry with its record's entity. Every read is bounded
// (at most `max_scan` entries looked at), and says where it stopped so the caller continues from
// there; `caught_up` tells a long poll that waiting is what is left. And records (`records
// NAME`): by stream, by canonical entity, or one by id, a page at a time.
// Plain code over `storage`'s reads: thread-safe as those are.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ops/operations.hpp"
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

// Each stream's canonical entity (invoice, payment, …), from the integration's stored settings.
std::map<std::string, std::string> stream_entities(storage& store, const std::string& name);

// A page of `records NAME` (args as the operation takes them): `body` is
// {"records": [{stream, id, updated_at, record[, deleted]}], "next": "STREAM/ID" or null}.
// When nothing can be read (no such stream, record or entity), `not_found` says why and `body`
// holds what the refusal adds (a hint, the streams there are).
struct records_read {
  nlohmann::json body = nlohmann::json::object();
  std::string not_found;
};
records_read read_records(storage& store, const std::string& name, const ops::records_args& args);

// A stored change entry as readers see it: the stored epoch `at_ms` becomes ISO 8601 UTC `at`
// (entries already stored read right too).
nlohmann::json change_entry_json(std::string_view doc);

}  // namespace ledgersync
