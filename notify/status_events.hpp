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

 private:
  bool primed_ = false;
  std::map<std::string, nlohmann::json> last_;
  // The last run whose end was announced (or known at the first reading), per integration: a
  // run seen while under way is announced when a later reading finds it ended.
  std::map<std::string, uint64_t> announced_run_;
};

}  // namespace ledgersync::notify
