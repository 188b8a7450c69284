// What saving new settings does to an integration, as plain rules the engine applies: a new
// integration's defaults from its kind, a `configure` change merged into the stored config
// (with the streams that follow a kind's settings, and a sign-in dropped when its client or
// authorization server changes), and what the new list of streams does to where each stood.
// No actor and no storage here: the engine writes the outcome through the integration's actor.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/integration_config.hpp"

namespace ledgersync {

struct connector_kind;

// What replacing an integration's streams `before` with `after` (a configure; odata's follow
// its entity_sets) does to where each stood. `added`: no cursor yet, the first run reads them
// in full. `removed`: no longer synced; their records stay (readable by --stream), their
// cursors go, so adding one back reads it in full again. `restarted`: same name, but they read
// something else now (path, entity, id, modified field or incremental parameter changed): their
// cursor would not fit, so it goes and the next run reads them in full. `kept`: unchanged in
// what they read (paging or page size may differ); they go on incrementally from their cursor.
struct stream_changes {
  std::vector<std::string> added, removed, restarted, kept;
  // Whether the list of streams a run walks, or a cursor, changes.
  bool moves() const { return !added.empty() || !removed.empty() || !restarted.empty(); }
  // The streams whose cursors are dropped: removed and restarted.
  std::vector<std::string> dropped_cursors() const;
};
stream_changes compare_streams(const std::vector<stream_config>& before,
                               const std::vector<stream_config>& after);
nlohmann::json to_json(const stream_changes& c);  // {added, removed, restarted} (names)

// A new integration's config with what its kind gives where the request says nothing: the
// kind's base URL, and its streams (made from its settings where they follow them, odata's
// entity sets).
nlohmann::json with_kind_defaults(nlohmann::json config, const connector_kind& kind);

// `configure NAME` on the stored config `current` (secrets unsealed): `changes` replaces the
// keys it names, except `settings`, which it merges (a JSON merge patch: null removes one, so
// setting a tenant id keeps the token beside it). The new config, validated, and the answer
// that says what moved; or, config nullopt, why it is refused (an invalid argument).
struct config_change {
  std::optional<integration_config> config;
  std::string error;
  // {"configured": NAME}, with "streams" {added, removed, restarted} when the streams moved
  // and "streams_note" when some are no longer synced.
  nlohmann::json answer;
};
config_change change_config(const std::string& name, nlohmann::json current,
                            const nlohmann::json& changes);

}  // namespace ledgersync
