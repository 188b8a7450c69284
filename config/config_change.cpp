#include "config/config_change.hpp"

#include <algorithm>

#include "connectors/registry.hpp"

namespace ledgersync {

using nlohmann::json;

std::vector<std::string> stream_changes::dropped_cursors() const {
  auto out = removed;
  out.insert(out.end(), restarted.begin(), restarted.end());
  return out;
}

stream_changes compare_streams(const std::vector<stream_config>& before,
                               const std::vector<stream_config>& after) {
  stream_changes out;
  auto find = [](const std::vector<stream_config>& in, const std::string& name) {
    auto it = std::find_if(in.begin(), in.end(), [&](auto& s) { return s.name == name; });
    return it == in.end() ? nullptr : &*it;
  };
  for (auto& s : after) {
    auto* old = find(before, s.name);
    if (!old)
      out.added.push_back(s.name);
    else if (old->path != s.path || old->entity != s.entity || old->id_pointer != s.id_pointer ||
             old->updated_pointer != s.updated_pointer ||
             old->incremental_param != s.incremental_param ||
             old->incremental_header != s.incremental_header)
      out.restarted.push_back(s.name);
    else
      out.kept.push_back(s.name);
  }
  for (auto& s : before)
    if (!find(after, s.name)) out.removed.push_back(s.name);
  return out;
}

json to_json(const stream_changes& c) {
  return json{{"added", c.added}, {"removed", c.removed}, {"restarted", c.restarted}};
}

namespace {

json streams_of(const connector_kind& kind, const json& settings) {
  json streams = json::array();
  for (auto& st : kind.streams_from_settings ? kind.streams_from_settings(settings)
                                             : kind.default_streams())
    streams.push_back(to_json(st));
  return streams;
}

}  // namespace

json with_kind_defaults(json config, const connector_kind& kind) {
  if (!kind.default_base_url.empty() &&
      (!config.contains("base_url") || config["base_url"] == json("")))
    config["base_url"] = kind.default_base_url;
  if (!config.contains("streams"))
    config["streams"] =
        streams_of(kind, config.contains("settings") ? config["settings"] : json::object());
  return config;
}

config_change change_config(const std::string& name, json current, const json& changes) {
  config_change out;
  if (changes.contains("name") && changes["name"] != name) {
    out.error = "an integration cannot be renamed; add a new one";
    return out;
  }
  // A new client or authorization server makes the stored sign-in one of another: its refresh
  // token is dropped (connect again) rather than sent, with the client secret, somewhere new.
  if (changes.contains("settings") && changes["settings"].is_object() &&
      current.contains("settings") && current["settings"].is_object()) {
    auto& now = current["settings"];
    auto& ch = changes["settings"];
    bool moved = false;
    for (auto* key : {"client_id", "auth_base_url"})
      if (ch.contains(key) && ch[key] != now.value(key, json())) moved = true;
    if (moved && !ch.contains("refresh_token")) {
      now.erase("refresh_token");
      now.erase("grant");
    }
  }
  std::string err;
  auto streams_before = streams_from_json(current.value("streams", json::array()), err)
                            .value_or(std::vector<stream_config>{});
  for (auto& [k, v] : changes.items()) {
    if (k == "settings" && v.is_object() && current.contains("settings") &&
        current["settings"].is_object())
      current["settings"].merge_patch(v);
    else
      current[k] = v;
  }
  // Where a kind's streams follow from its settings (odata's entity sets), they follow every
  // change of them, as at add; the integration actor keeps the cursors of the streams that
  // stay the same.
  auto* kind = find_connector_kind(current.value("connector", std::string(default_connector_kind)));
  if (kind && kind->streams_from_settings && !changes.contains("streams"))
    current["streams"] = streams_of(*kind, current.value("settings", json::object()));
  err.clear();
  auto cfg = config_from_json(current, err);
  if (!cfg) {
    out.error = err;
    return out;
  }
  if (auto v = validate(*cfg); !v.empty()) {
    out.error = "invalid settings: " + v;
    return out;
  }
  out.answer = {{"configured", name}};
  if (auto moved = compare_streams(streams_before, cfg->streams); moved.moves()) {
    out.answer["streams"] = to_json(moved);
    if (!moved.removed.empty()) {
      std::string list;
      for (auto& s : moved.removed) list += (list.empty() ? "" : ", ") + s;
      out.answer["streams_note"] = "no longer synced: " + list +
                                   "; their records are kept (`ledgersync records " + name +
                                   " --stream " + moved.removed.front() + "` reads them)";
    }
  }
  out.config = std::move(cfg);
  return out;
}

}  // namespace ledgersync
