#include "storage/feed_reader.hpp"

#include <algorithm>

#include "core/time_util.hpp"

namespace ledgersync {

using nlohmann::json;

json change_entry_json(std::string_view doc) {
  auto j = json::parse(doc, nullptr, false);
  if (!j.is_object()) return json::object();
  if (j.contains("at_ms")) {
    if (j["at_ms"].is_number_integer()) j["at"] = format_iso(from_ms(j["at_ms"].get<int64_t>()));
    j.erase("at_ms");
  }
  return j;
}

feed_page read_feed(storage& store, const feed_query& q) {
  feed_page page;
  page.next_since = q.since;
  size_t scanned = 0;
  auto limit = std::max<size_t>(1, q.limit);
  // Entries are written as {"seq":N,"integration":"NAME",…} (lmdb_storage's append_change):
  // a filtered read skips other integrations' entries without parsing them, which is most of
  // the work of a follower that waits behind a busy feed.
  std::string needle =
      q.integration.empty() ? std::string() : "\"integration\":" + json(q.integration).dump() + ",";
  while (page.changes.size() < limit && scanned < q.max_scan) {
    // Unfiltered, every entry counts; filtered, read in chunks and keep the matches.
    size_t want = q.integration.empty() ? limit - page.changes.size() : size_t{1000};
    want = std::min(want, q.max_scan - scanned);
    auto rows = store.changes(page.next_since, want);
    bool full = false;
    for (auto& row : rows) {
      ++scanned;
      page.next_since = row.seq;
      if (!needle.empty() && row.doc.find(needle) == std::string::npos) continue;
      auto entry = change_entry_json(row.doc);
      auto integration = entry.value("integration", "");
      if (!q.integration.empty() && integration != q.integration) continue;
      if (q.with_records) {
        auto rec = store.record(integration, entry.value("stream", ""), entry.value("id", ""));
        // A tombstone is gone upstream: its current body is none.
        entry["record"] =
            rec && !rec->deleted ? json::parse(rec->body, nullptr, false) : json(nullptr);
      }
      page.changes.push_back(std::move(entry));
      if (page.changes.size() == limit) {
        full = true;
        break;
      }
    }
    if (full) break;
    if (rows.size() < want) {
      page.caught_up = true;
      break;
    }
  }
  return page;
}

}  // namespace ledgersync
