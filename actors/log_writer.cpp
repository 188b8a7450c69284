// The log writer: the only code that writes to storage. Group commit falls out of the mailbox:
// a write joins the pending group and, if no flush is queued yet, queues one behind itself. By
// the time the flush runs, every write that arrived meanwhile is in the group, and one durable
// transaction answers them all.
#include <spdlog/spdlog.h>

#include "actors/context.hpp"

namespace ledgersync {

namespace {

struct pending_write {
  write_batch batch;
  caf::typed_response_promise<batch_result> promise;
};

struct log_writer_state {
  storage* store = nullptr;
  std::vector<pending_write> pending;
  bool flush_queued = false;
  uint64_t groups = 0, batches = 0;
  static inline const char* name = "log_writer";
};

log_writer_actor::behavior_type log_writer(
    log_writer_actor::stateful_pointer<log_writer_state> self, storage* store) {
  self->state.store = store;
  return {[=](write_atom, write_batch& b) -> caf::typed_response_promise<batch_result> {
            auto p = self->make_response_promise<batch_result>();
            self->state.pending.push_back({std::move(b), p});
            if (!self->state.flush_queued) {
              self->state.flush_queued = true;
              self->send(self, flush_atom::value);
            }
            return p;
          },
          [=](flush_atom) {
            auto& st = self->state;
            st.flush_queued = false;
            if (st.pending.empty()) return;
            auto group = std::move(st.pending);
            st.pending.clear();
            std::vector<const write_batch*> batches;
            batches.reserve(group.size());
            for (auto& w : group) batches.push_back(&w.batch);
            std::vector<batch_result> results;
            auto err = st.store->apply_group(batches, results);
            ++st.groups;
            st.batches += group.size();
            if (!err.ok()) {
              spdlog::error("log writer: {} ({} writes refused)", err.message, group.size());
              for (auto& w : group)
                w.promise.deliver(caf::make_error(caf::sec::runtime_error, err.message));
              return;
            }
            for (size_t i = 0; i < group.size(); ++i) group[i].promise.deliver(results[i]);
          }};
}

}  // namespace

log_writer_actor spawn_log_writer(caf::actor_system& sys, storage* store, bool detached) {
  if (detached) return sys.spawn<caf::detached>(log_writer, store);
  return sys.spawn(log_writer, store);
}

}  // namespace ledgersync
