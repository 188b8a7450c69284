// The latest status document of each integration, as the status feed (actors/status_feed.cpp)
// keeps it for its watchers: one text per integration, never a parsed tree (with 10,000
// integrations a tree each cost ~3 KB more than its text), and what changed since the last
// batch. Batches and snapshots are put together from the texts without parsing them again.
// Plain data with one owner (the feed actor); not thread-safe.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace ledgersync {

class status_board {
 public:
  // Keeps `doc` (a status document) as `name`'s latest. Returns whether it is a change to hand
  // out: a document that differs from the last one only in "now" (which moves with every
  // reading) is a re-reading, kept for its newer "now" but announced to nobody.
  bool take(const std::string& name, nlohmann::json doc);
  // Forgets `name`; returns whether it was known (its removal is then a change to hand out).
  bool drop(const std::string& name);

  bool has_changes() const { return !changed_.empty() || !removed_.empty(); }
  // What changed since the last call, as the feed's batch: {"changed": [documents],
  // "removed": [names], "snapshot": false}; the changes are then handed out.
  std::string take_changes();
  // Every document: {"changed": [documents], "removed": [], "snapshot": true}.
  std::string snapshot() const;
  // Forgets every integration not in `names` (a full reading did not find them); returns
  // whether any was forgotten.
  bool drop_all_but(const std::set<std::string>& names);
  size_t size() const { return docs_.size(); }

 private:
  struct entry {
    std::string text;  // the document as JSON text, "now" included
    // BLAKE2b of the document without "now": 16 bytes instead of a second copy of the text, and
    // a hash no status text can be made to collide with (error messages carry upstream text).
    std::array<unsigned char, 16> compared;
  };
  std::map<std::string, entry> docs_;
  std::set<std::string> changed_, removed_;
};

}  // namespace ledgersync
