// What a webhook subscriber is told, derived from two successive readings of the integrations'
// status documents (the ones `ledgersync list --json` prints): a status that changed, a run
// that ended, records newly set aside. Derived from what the service shows rather than hooked
// into the actors, so a notification can never say something the Integrations page does not.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ledgersync::notify {

struct status_event {
  std::string type;  // status_changed, disconnected, run_failed, run_succeeded, set_aside
  nlohmann::json data;
};

class status_events {
 public:
  // The events between the last reading and `docs` (an array of status documents). The first
  // reading only learns the state: a restart does not re-announce every integration. An
  // integration first seen later is new: compared with pending and no run.
  std::vector<status_event> next(const nlohmann::json& docs);
  // The same from one batch of the status feed (actors/status_feed.cpp): {"snapshot": bool,
  // "changed": [documents], "removed": [names]}. A snapshot is a full reading, as `docs` above;
  // otherwise an integration the batch does not name is unchanged.
  std::vector<status_event> next_batch(const nlohmann::json& batch);

 private:
  // What the next reading of one integration is compared with: a few fields, not its document
  // (with 10,000 integrations a document kept each cost ~3 KB).
  struct seen {
    std::string status = "pending";
    int64_t set_aside = 0;
    uint64_t push_failed = 0;  // pushed records the vendor refused
    // The last run whose end was announced (or known at the first reading): a run seen while
    // under way is announced when a later reading finds it ended.
    uint64_t announced_run = 0;
  };
  void compare(const nlohmann::json& doc, std::vector<status_event>& out);

  bool primed_ = false;
  std::map<std::string, seen> last_;
};

}  // namespace ledgersync::notify
