#include "core/status_board.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace ledgersync {

namespace {

std::array<unsigned char, 16> blake2b(const std::string& text) {
  // Idempotent and cheap after the first call; libsodium picks its fastest implementation there.
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
  std::array<unsigned char, 16> out;
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return out;
}

// {"changed":[...],"removed":[...],"snapshot":...}: the keys in the order nlohmann::json
// printed them when the feed built batches as trees, so watchers see the same text as before.
template <typename Docs, typename Names>
std::string batch(const Docs& docs, const Names& removed, bool snapshot) {
  size_t size = 64;
  for (const std::string* d : docs) size += d->size() + 1;
  std::string out;
  out.reserve(size);
  out += "{\"changed\":[";
  const char* sep = "";
  for (const std::string* d : docs) out.append(sep).append(*d), sep = ",";
  out += "],\"removed\":[";
  sep = "";
  for (auto& name : removed) out.append(sep).append(nlohmann::json(name).dump()), sep = ",";
  out += snapshot ? "],\"snapshot\":true}" : "],\"snapshot\":false}";
  return out;
}

}  // namespace

bool status_board::take(const std::string& name, nlohmann::json doc) {
  auto text = doc.dump();
  doc.erase("now");
  auto compared = blake2b(doc.dump());
  auto it = docs_.find(name);
  if (it != docs_.end() && it->second.compared == compared) {
    it->second.text = std::move(text);  // the same, read later: keep the newer "now"
    return false;
  }
  docs_[name] = entry{std::move(text), compared};
  removed_.erase(name);
  changed_.insert(name);
  return true;
}

bool status_board::drop(const std::string& name) {
  if (!docs_.erase(name)) return false;
  changed_.erase(name);
  removed_.insert(name);
  return true;
}

bool status_board::drop_all_but(const std::set<std::string>& names) {
  std::vector<std::string> gone;
  for (auto& [name, _] : docs_)
    if (!names.count(name)) gone.push_back(name);
  for (auto& name : gone) drop(name);
  return !gone.empty();
}

std::string status_board::take_changes() {
  std::vector<const std::string*> docs;
  docs.reserve(changed_.size());
  for (auto& name : changed_) docs.push_back(&docs_.at(name).text);
  auto out = batch(docs, removed_, false);
  changed_.clear();
  removed_.clear();
  return out;
}

std::string status_board::snapshot() const {
  std::vector<const std::string*> docs;
  docs.reserve(docs_.size());
  for (auto& [_, e] : docs_) docs.push_back(&e.text);
  return batch(docs, std::vector<std::string>{}, true);
}

}  // namespace ledgersync
