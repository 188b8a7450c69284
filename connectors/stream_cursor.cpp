// The engine's side of a stream's cursor: the pass bookkeeping, and the connector asked for
// everything else.
#include <nlohmann/json.hpp>

#include "connectors/connector.hpp"

namespace ledgersync {

std::string stream_cursor::to_json() const {
  return nlohmann::json{{"in_pass", in_pass},
                        {"pages", pages},
                        {"full", full},
                        {"pass_id", pass_id},
                        {"state", state}}
      .dump();
}

stream_cursor stream_cursor::from_json(const std::string& s) {
  stream_cursor c;
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_object()) return c;
  c.in_pass = j.value("in_pass", false);
  c.pages = j.value("pages", uint64_t{0});
  c.full = j.value("full", false);
  c.pass_id = j.value("pass_id", "");
  if (j.contains("state") && j["state"].is_string()) {
    c.state = j["state"].get<std::string>();
  } else {
    // Stored before connectors owned their state: only rest existed, and these fields are
    // exactly its state (rest_connector.cpp reads them under the same names).
    nlohmann::json state = nlohmann::json::object();
    for (auto* key : {"watermark", "pass_since", "page_token", "pass_max"})
      if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty())
        state[key] = j[key];
    if (!state.empty()) c.state = state.dump();
  }
  return c;
}

stream_cursor cursor_after(const connector& conn, const stream_config& s, const stream_cursor& c,
                           const page_result& page) {
  auto next = c;
  next.pages += 1;
  next.state = conn.after_page(s, c.state, page);
  if (page.has_more) return next;
  next.in_pass = false;
  next.full = false;
  next.pass_id.clear();
  return next;
}

stream_cursor cursor_for_pass(const connector& conn, const stream_config& s, const stream_cursor& c,
                              bool full, std::string pass_id) {
  stream_cursor next;
  next.in_pass = true;
  next.pages = 0;
  next.full = full;
  next.pass_id = std::move(pass_id);
  next.state = conn.begin_pass(s, c.state, full);
  return next;
}

}  // namespace ledgersync
