// Fault injection by wrapping (not mocking): forwards to a real storage, and fails the next
// `fail_next` groups as a full disk would. Used by storage and actor tests.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <vector>

#include "storage/storage.hpp"

namespace ledgersync::testing {

class faulty_storage final : public storage {
 public:
  explicit faulty_storage(storage& inner) : inner_(inner) {}
  std::atomic<int> fail_next{0};
  std::atomic<int> groups{0};
  // Fails (once) the first group holding a batch this matches: aims a full disk at one write.
  std::function<bool(const write_batch&)> fail_once_if;
  std::atomic<int> prunes{0};
  std::atomic<int> doc_reads{0};  // integration_doc calls

  // How many prunes had run at each group commit: shows commits interleaving with pruning.
  // (Tests run the writer on the test scheduler's one thread.)
  std::vector<int> prunes_at_group;

  error_info apply_group(const std::vector<const write_batch*>& b,
                         std::vector<batch_result>& r) override {
    ++groups;
    if (fail_once_if)
      for (auto* x : b)
        if (fail_once_if(*x)) {
          fail_once_if = nullptr;
          return make_error_info(error_category::storage,
                                 "disk full: the database could not commit (injected)");
        }
    prunes_at_group.push_back(prunes);
    if (fail_next > 0) {
      --fail_next;
      return make_error_info(error_category::storage,
                             "disk full: the database could not commit (injected)");
    }
    return inner_.apply_group(b, r);
  }
  std::vector<std::string> integration_docs() override { return inner_.integration_docs(); }
  std::vector<std::string> integration_names() override { return inner_.integration_names(); }
  std::optional<std::string> integration_doc(const std::string& n) override {
    doc_reads.fetch_add(1);
    return inner_.integration_doc(n);
  }
  std::map<std::string, std::string> cursors(const std::string& i) override {
    return inner_.cursors(i);
  }
  std::vector<record_row> records(const std::string& i, const std::string& s, const std::string& as,
                                  const std::string& ai, size_t l, bool d = false) override {
    return inner_.records(i, s, as, ai, l, d);
  }
  std::optional<record_row> record(const std::string& i, const std::string& s,
                                   const std::string& id) override {
    return inner_.record(i, s, id);
  }
  std::map<std::string, uint64_t> record_counts(const std::string& i) override {
    return inner_.record_counts(i);
  }
  std::vector<change_row> changes(uint64_t s, size_t l) override { return inner_.changes(s, l); }
  uint64_t last_change_seq() override { return inner_.last_change_seq(); }
  std::vector<std::string> logs(const std::string& i, size_t l) override {
    std::unique_lock<std::mutex> hold(gate_m_);
    if (logs_gated_) {
      ++logs_blocked_;
      gate_cv_.notify_all();
      gate_cv_.wait(hold, [&] { return !logs_gated_; });
      --logs_blocked_;
    }
    hold.unlock();
    return inner_.logs(i, l);
  }
  // A read that takes as long as a test wants: while gated, logs() waits for the gate to open.
  void gate_logs(bool closed) {
    std::lock_guard<std::mutex> hold(gate_m_);
    logs_gated_ = closed;
    gate_cv_.notify_all();
  }
  // True once a logs() call waits at the closed gate (false after `within`).
  bool wait_logs_blocked(std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> hold(gate_m_);
    return gate_cv_.wait_for(hold, within, [&] { return logs_blocked_ > 0; });
  }
  std::vector<std::string> runs(const std::string& i, size_t l) override {
    return inner_.runs(i, l);
  }
  std::optional<std::string> run(const std::string& i, uint64_t id) override {
    return inner_.run(i, id);
  }
  std::vector<std::string> set_aside(const std::string& i) override { return inner_.set_aside(i); }
  // Prunes are counted, not failed: `fail_next` stays meant for page commits.
  error_info prune(const std::string& i, const retention_limits& l, size_t max,
                   prune_result& out) override {
    ++prunes;
    return inner_.prune(i, l, max, out);
  }
  history_stats history(const std::string& i) override { return inner_.history(i); }
  std::vector<outbox_row> outbox(const std::string& i, uint64_t a, size_t l,
                                 const std::string& s = "") override {
    return inner_.outbox(i, a, l, s);
  }
  std::optional<outbox_row> outbox_item(const std::string& i, uint64_t s) override {
    return inner_.outbox_item(i, s);
  }
  std::optional<outbox_row> outbox_latest(const std::string& i, const std::string& e,
                                          const std::string& x) override {
    return inner_.outbox_latest(i, e, x);
  }
  std::map<std::string, uint64_t> outbox_counts(const std::string& i) override {
    return inner_.outbox_counts(i);
  }

 private:
  storage& inner_;
  std::mutex gate_m_;
  std::condition_variable gate_cv_;
  bool logs_gated_ = false;
  int logs_blocked_ = 0;
};

// A fresh temporary directory, removed when the test ends.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/ledgersync-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace ledgersync::testing
