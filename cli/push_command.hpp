// `ledgersync push NAME --entity E --file ITEMS.ndjson [--wait]` and `ledgersync pushes NAME`:
// the application's records sent to the vendor through the service's outbox (README, "Pushing
// records"). `push` reads the file, which the service accepts whole or not at all (every
// problem listed with its line), and with --wait follows the run that sends the items, then
// shows each item's outcome; `push --retry SEQ` sends a failed or conflicting item again.
// `pushes` lists the outbox with each item's status, the vendor's id and what it refused.
#pragma once

#include <cstdint>
#include <string>

#include "cli/client.hpp"

namespace ledgersync::cli {

struct push_options {
  std::string entity;  // customer, invoice, payment
  std::string file;    // NDJSON; "-" reads standard input
  uint64_t retry = 0;
  bool wait = false;
  bool json_out = false;
};

struct pushes_options {
  std::string status, entity, external_id;
  size_t limit = 0;  // 0: every item
  bool json_out = false;
};

int run_push(service_client& c, const std::string& name, const push_options& o);
int run_pushes(service_client& c, const std::string& name, const pushes_options& o);

}  // namespace ledgersync::cli
