// A connector's per-stream state as the engine stores it: opaque text, here a JSON object of the
// fields that are set. Every vendor connector keeps a small struct of strings, flags and counts;
// this reads and writes them all the same way, so each struct lists its fields once.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace ledgersync {

// CRTP: `struct sage_state : json_state<sage_state>` with a
//   template <class S, class F> static void each_field(S& s, F&& f)
// calling f("key", s.member) for each member (std::string, bool or int64_t).
// parse() of anything but a JSON object, or of a field of another type, gives the defaults: a
// state that reads as "start over" is safe, and the state is ours, written by dump().
// dump() leaves out empty strings, false and 0, so an untouched state is "{}".
template <class Self>
struct json_state {
  static Self parse(const std::string& text) {
    Self st;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return st;
    Self::each_field(st, [&](const char* key, auto& member) { read(j, key, member); });
    return st;
  }

  std::string dump() const {
    nlohmann::json j = nlohmann::json::object();
    Self::each_field(static_cast<const Self&>(*this), [&](const char* key, const auto& member) {
      if (member != std::decay_t<decltype(member)>{}) j[key] = member;
    });
    return j.dump();
  }

 private:
  static void read(const nlohmann::json& j, const char* key, std::string& to) {
    if (auto v = j.find(key); v != j.end() && v->is_string()) to = v->template get<std::string>();
  }
  static void read(const nlohmann::json& j, const char* key, bool& to) {
    if (auto v = j.find(key); v != j.end() && v->is_boolean()) to = v->template get<bool>();
  }
  static void read(const nlohmann::json& j, const char* key, int64_t& to) {
    if (auto v = j.find(key); v != j.end() && v->is_number_integer())
      to = v->template get<int64_t>();
  }
};

}  // namespace ledgersync
