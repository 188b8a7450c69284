#include "storage/feed_reader.hpp"

#include <algorithm>
#include <set>

#include "config/integration_config.hpp"
#include "connectors/registry.hpp"
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

std::map<std::string, std::string> stream_entities(storage& store, const std::string& name) {
  std::map<std::string, std::string> out;
  auto doc = json::parse(store.integration_doc(name).value_or("{}"), nullptr, false);
  if (!doc.is_object()) return out;
  for (auto& s : doc.value("config", json::object()).value("streams", json::array()))
    if (s.is_object() && s.contains("entity") && s["entity"].is_string() &&
        !s["entity"].get<std::string>().empty())
      out[s.value("name", "")] = s["entity"].get<std::string>();
  return out;
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
  // Entries name their record's entity since it was known at write; older ones, and records
  // that are not canonical (rest), go by their stream's, read once per integration.
  std::map<std::string, std::map<std::string, std::string>> by_stream;
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
      if (!entry.contains("entity")) {
        auto it = by_stream.find(integration);
        if (it == by_stream.end())
          it = by_stream.emplace(integration, stream_entities(store, integration)).first;
        if (auto e = it->second.find(entry.value("stream", "")); e != it->second.end())
          entry["entity"] = e->second;
      }
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

namespace {

// The streams of `name` that may hold `entity` records, in name order, each with whether its
// records must be checked one by one: a stream of one entity is read as it is; one whose kind
// says it holds others too (a bank statement's balances beside its entries), or one only a past
// configuration had (a removed OData entity set), by each record's own entity. `entities`
// gets every entity the integration's streams hold.
std::vector<std::pair<std::string, bool>> entity_streams(storage& store, const std::string& name,
                                                         const std::string& entity,
                                                         std::set<std::string>& entities) {
  auto doc = json::parse(store.integration_doc(name).value_or("{}"), nullptr, false);
  auto config = doc.is_object() ? doc.value("config", json::object()) : json::object();
  auto* kind = find_connector_kind(config.value("connector", std::string(default_connector_kind)));
  std::map<std::string, std::pair<bool, bool>> streams;  // name -> (may hold it, check each)
  for (auto& [stream, own] : stream_entities(store, name)) {
    std::set<std::string> held{own};
    if (kind)
      for (auto& spec : kind->streams)
        if (spec.name == stream)
          held.insert(spec.other_entities.begin(), spec.other_entities.end());
    entities.insert(held.begin(), held.end());
    streams[stream] = {held.count(entity) > 0, held.size() > 1};
  }
  for (auto& [stream, n] : store.record_counts(name))
    if (n > 0 && !streams.count(stream)) streams[stream] = {true, true};
  std::vector<std::pair<std::string, bool>> out;
  for (auto& [stream, how] : streams)
    if (how.first) out.emplace_back(stream, how.second);
  return out;
}

json row_json(const record_row& r) {
  json row{{"stream", r.stream},
           {"id", r.id},
           {"updated_at", r.updated_at},
           {"record", json::parse(r.body, nullptr, false)}};
  if (r.deleted) row["deleted"] = true;
  return row;
}

// `records NAME --id ID [--stream S]`: the record in that stream, or in every stream that has
// one by that id.
records_read read_record(storage& store, const std::string& name, const ops::records_args& args) {
  auto id = args.id.value_or("");
  auto& stream = args.stream;
  std::vector<std::string> streams;
  if (!stream.empty())
    streams.push_back(stream);
  else
    for (auto& [s, n] : store.record_counts(name)) streams.push_back(s);
  records_read out;
  json rows = json::array();
  for (auto& s : streams)
    if (auto r = store.record(name, s, id); r && (!r->deleted || args.include_deleted))
      rows.push_back(row_json(*r));
  if (rows.empty()) {
    out.not_found = "no record '" + id + "' in " + name +
                    (stream.empty() ? "" : "'s stream '" + stream + "'");
    return out;
  }
  out.body = {{"records", std::move(rows)}, {"next", nullptr}};
  return out;
}

// The rows of `entity` in its streams (name order), after (after_stream, after_id), at most
// `want`; when no stream holds it, `out.not_found` names the entities there are.
std::vector<record_row> entity_rows(storage& store, const std::string& name,
                                    const ops::records_args& args, size_t want,
                                    records_read& out) {
  std::vector<record_row> rows;
  std::set<std::string> entities;
  auto streams = entity_streams(store, name, args.entity, entities);
  if (streams.empty()) {
    std::string list;
    for (auto& e : entities) list += (list.empty() ? "" : ", ") + e;
    out.not_found = "no stream of " + name + " holds " + args.entity +
                    " records; its entities are " + (list.empty() ? "none" : list);
    return rows;
  }
  for (auto& [s, check_each] : streams) {
    if (!args.after_stream.empty() && s < args.after_stream) continue;
    auto after = s == args.after_stream ? args.after_id : std::string();
    if (!check_each) {
      auto more = store.records(name, s, after.empty() ? "" : s, after, want - rows.size(),
                                args.include_deleted);
      rows.insert(rows.end(), more.begin(), more.end());
    } else {
      // Read on in chunks until the page is full or the stream ends.
      constexpr size_t chunk = 256;
      for (;;) {
        auto more =
            store.records(name, s, after.empty() ? "" : s, after, chunk, args.include_deleted);
        for (auto& r : more) {
          auto body = json::parse(r.body, nullptr, false);
          if (body.is_object() && body.contains("entity") && body["entity"] == args.entity)
            rows.push_back(r);
          if (rows.size() == want) break;
        }
        if (rows.size() == want || more.size() < chunk) break;
        after = more.back().id;
      }
    }
    if (rows.size() == want) break;
  }
  return rows;
}

}  // namespace

records_read read_records(storage& store, const std::string& name, const ops::records_args& args) {
  records_read out;
  if (!args.stream.empty()) {
    auto& stream = args.stream;
    // The configured streams, and any a past configuration left records in.
    std::set<std::string> streams;
    auto doc = json::parse(store.integration_doc(name).value_or("{}"), nullptr, false);
    if (doc.is_object())
      for (auto& s : doc.value("config", json::object()).value("streams", json::array()))
        if (s.is_object()) streams.insert(s.value("name", ""));
    for (auto& [s, n] : store.record_counts(name))
      if (n > 0) streams.insert(s);
    if (!streams.count(stream)) {
      std::string list;
      for (auto& s : streams) list += (list.empty() ? "" : ", ") + s;
      out.body = ops::hint_with_action("Show lists its streams.", "show", name);
      out.body["streams"] = streams;
      out.not_found = "no stream '" + stream + "' in " + name + "; its streams are " +
                      (list.empty() ? "none" : list);
      return out;
    }
  }
  if (args.id) return read_record(store, name, args);
  // One row more than asked for tells whether another page follows, so a reader stops on
  // `next` being null instead of asking once more for an empty page.
  auto want = static_cast<size_t>(args.limit) + 1;
  auto rows = args.entity.empty()
                  ? store.records(name, args.stream, args.after_stream, args.after_id, want,
                                  args.include_deleted)
                  : entity_rows(store, name, args, want, out);
  if (!out.not_found.empty()) return out;
  bool more = rows.size() == want;
  if (more) rows.pop_back();
  json page = json::array();
  for (auto& r : rows) page.push_back(row_json(r));
  json next = more ? json(rows.back().stream + "/" + rows.back().id) : json(nullptr);
  out.body = {{"records", std::move(page)}, {"next", std::move(next)}};
  return out;
}

}  // namespace ledgersync
