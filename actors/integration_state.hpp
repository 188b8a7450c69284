// The integration actor's state and the functions its two files share: actors/integration.cpp
// (the actor's behaviour: its messages) and actors/integration_run.cpp (a run: fetching,
// paging, committing, finishing; the status it publishes). Private to those two files.
#pragma once

#include <spdlog/spdlog.h>

#include <deque>
#include <set>

#include "actors/context.hpp"
#include "config/integration_config.hpp"
#include "config/schedule.hpp"
#include "connectors/connector.hpp"
#include "connectors/paging_guard.hpp"
#include "connectors/push.hpp"
#include "connectors/registry.hpp"
#include "core/metrics.hpp"
#include "core/retry_policy.hpp"
#include "core/run_tally.hpp"
#include "core/status_model.hpp"
#include "core/token_bucket.hpp"

namespace ledgersync::integration_detail {

using nlohmann::json;
using std::chrono::milliseconds;

struct pending_commit {
  std::string stream;
  stream_cursor cursor;
  bool stream_done = false;
  bool adopt = true;  // false once a configure dropped the stream's cursor
};

// The run's counts and outcome live in the plain run_tally; this adds where the run stands.
struct active_run : run_tally {
  size_t stream_idx = 0;
  stream_cursor fetch_cursor;  // where fetching stands (ahead of the committed cursor)
  bool stream_fetched_all = false;
  uint64_t request_id = 0;  // in-flight page request, 0 = none
  bool waiting = false;     // a backoff or rate-limit timer is pending
  std::string waiting_text;
  uint32_t attempt = 0, rate_waits = 0;
  std::deque<pending_commit> commits;
  paging_guard guard;  // the current stream's pass: no token twice, no endless paging
  bool ending = false;
  // OAuth: a token answer is being adopted (a rotated refresh token on its way to the store).
  bool adopting_token = false;
  // OAuth: a page answered 401 and a fresh access token was fetched for it; a second 401 is
  // the upstream's verdict.
  bool reauthorized = false;
  // Write-back (actors/integration_push.cpp): a run drains the outbox before its streams and
  // again before it ends; a push run (sync_kind::push) only drains it.
  bool pushing = false;
  bool streams_started = false;
  uint64_t push_seq = 0;              // the item being pushed, 0 = none
  std::optional<push_step> push_at;   // its next request
  push_item push_sent;                // the item as the writer sees it (references resolved)
  int push_writes = 0;                // its writes on their way to the store
  // A push failed past its retries in a run that reads: the run reads on, the items wait.
  bool push_stopped = false;
};

struct integration_state {
  context_ptr ctx;
  integration_config cfg;
  std::optional<schedule> sched;
  std::unique_ptr<connector> conn;
  std::shared_ptr<http_transport> transport;
  status_facts facts;
  std::map<std::string, stream_cursor> cursors;  // committed
  token_bucket manual{2, std::chrono::minutes(5)};
  token_bucket upstream{20, milliseconds(50)};
  std::optional<shared_limit> shared;  // the budget it shares with others of its app
  // The upstream said its quota is spent (page_result::pause_ms): no request before this
  // actor-clock time, whichever run asks.
  std::chrono::nanoseconds quota_free_at{0};
  retry_policy retry;
  std::optional<active_run> run;
  uint64_t next_request = 1;
  uint64_t timer_gen = 0;
  int64_t next_run_ms = 0;
  std::map<uint64_t, caf::typed_response_promise<std::string>> probes;
  uint64_t interrupted_run = 0;  // closed at start-up; the resume run names it
  // What a failed commit left unrecorded (a run's end on a full disk): written again later.
  std::vector<write_batch> unwritten;
  bool persist_armed = false;
  // A run's end on its way to the store, and the status requests held until it lands: a status
  // that says "not running" while the history still says "running" would be untrue.
  int ends_in_flight = 0;
  std::vector<caf::typed_response_promise<std::string>> status_waiting;
  // Who waits for a run's end (`sync --wait`, the API's run wait), by waiter id: answered when
  // the end has landed, or by their timeout.
  struct run_waiter {
    uint64_t run_id;
    caf::typed_response_promise<std::string> rp;
  };
  std::map<uint64_t, run_waiter> run_waiters;
  uint64_t next_waiter = 1;
  // OAuth (uses_oauth): the access token and when it expires (wall ms on the actor clock). It
  // is copied into cfg.api_key, which the connector sends, and never stored.
  std::string access_token;
  int64_t access_expires_ms = 0;
  uint64_t token_request = 0;  // the run's token request in flight, 0 = none
  int64_t access_margin_ms = 60'000;  // replaced this long before it expires
  // Every run token request not yet answered, the timed-out ones too: a late answer may carry
  // the only valid (rotated) refresh token.
  std::set<uint64_t> token_requests;
  // The refresh token the last rotation replaced: a configure built from an older read of the
  // store must not bring it back.
  std::string spent_refresh_token;
  // `connect`: the sign-in begun and not yet finished (its PKCE verifier never leaves here).
  struct pending_sign_in {
    std::string state, verifier, redirect_uri;
    int64_t expires_ms = 0;
  };
  std::optional<pending_sign_in> sign_in;
  // `connect`'s own token requests, by request id, with who waits for each.
  std::map<uint64_t, caf::typed_response_promise<std::string>> connects;
  // `test`'s token requests (an OAuth integration without a current access token gets one
  // first, as a run would), by request id, with who waits for the test's answer.
  std::map<uint64_t, caf::typed_response_promise<std::string>> probe_tokens;
  // Write-back: the writing half of the connector (null: the kind only reads), the outbox's
  // open items (pending, sending) in the order they are sent, and the store's counts.
  std::unique_ptr<push_writer> writer;
  std::map<uint64_t, push_item> outbox;
  std::map<std::string, uint64_t> push_counts;
  // Pushes are accepted one request at a time: each reads the store's newest item of its
  // external ids, which must include the previous request's.
  std::deque<std::pair<std::string, caf::typed_response_promise<std::string>>> push_queue;
  bool push_accepting = false;
  bool push_retry_armed = false;  // a push run is due after a wait
  bool push_after_run = false;    // items came while a run was stopping: a push run follows it
  // Skipped scheduled fires are logged once per reason, not once a minute.
  std::string last_skip_reason;
  // Sleep (engine_actor): who to tell when idle, and the writes whose answers are still due
  // (their continuations would be lost with the actor).
  engine_actor engine;
  int writes_in_flight = 0;
  // The last write of the integration's document failed (new settings on a full disk): what
  // the actor holds is newer than the store, so it stays awake until one lands.
  bool doc_unsaved = false;
  static inline const char* name = "integration";
};

using self_ptr = integration_actor::stateful_pointer<integration_state>;

// ---- shared by the behaviour and the run (actors/integration_run.cpp) ----------------------
std::chrono::nanoseconds mono(self_ptr self);
int64_t now_ms(self_ptr self);
json event(self_ptr self, const char* level, const std::string& what, const std::string& message);
json error_event(self_ptr self, const error_info& e, const std::string& what);
// Applies new settings: connector, buckets, retry policy. Cursors and status stay.
void apply_config(self_ptr self, integration_config cfg);
std::string doc_of(self_ptr self);
status_inputs inputs(self_ptr self);
void publish_status(self_ptr self);
void write(self_ptr self, write_batch b, std::function<void(const batch_result&)> ok,
           std::function<void(const caf::error&)> fail);
void count_metric(self_ptr self, const char* name, const char* help, metrics::labels more = {},
                  uint64_t by = 1);
void persist(self_ptr self, write_batch b, std::function<void()> settled = {});
void persist_run_end(self_ptr self, write_batch b);
void fail_run(self_ptr self, error_info e);
void fetch_page(self_ptr self);
void on_page(self_ptr self, const http_response& resp);
void on_page_error(self_ptr self, const error_info& e);
void maybe_finish(self_ptr self);
void close_interrupted(self_ptr self);
sync_reply start_run(self_ptr self, const sync_request& req);
void arm_retry(self_ptr self, milliseconds delay, std::string text);
// Waits as the upstream's quota, our pacing, the sign-in and the app's shared budget require;
// false when a wait was armed (the call comes again from fetch_page).
bool may_call(self_ptr self);
void start_stream(self_ptr self);
// Sends the run's request (a page or a push step) with its deadline on the actor clock; the
// answer comes back as fetched_atom.
void send_request(self_ptr self, http_request req);
// What an answer's rate-limit headers said: our own wait, and the app's shared one.
void apply_pauses(self_ptr self, int64_t pause_ms, int64_t shared_pause_ms);

// Nothing runs, waits, or is waited for, and letting the actor go forgets nothing: the manual
// limit is full, no quota pause or access token is current. Then it may sleep.
bool idle(self_ptr self);

// ---- write-back (actors/integration_push.cpp) ----------------------------------------------
// The `push` operation (ops::push_args as JSON): items checked, made durable, a run to send them.
caf::typed_response_promise<std::string> accept_push(self_ptr self, std::string args);
// The open items from the store, at start-up.
void load_outbox(self_ptr self);
// Whether the outbox has an item a run can send now.
bool has_push_work(self_ptr self);
// Sends the next item (the run's push phase); the phase ends when none is left.
void next_push(self_ptr self);
// The current item's next request, once its `sending` mark is durable and may_call allows it.
void push_fetch(self_ptr self);
void on_push_answer(self_ptr self, const http_response& resp);
void on_push_error(self_ptr self, const error_info& e);
// After a run: open items that remain get a push run later (a wait, then sync_kind::push).
void arm_push_retry(self_ptr self);

// ---- OAuth sign-in (actors/integration_oauth.cpp) ----------------------------------------------
// The run needs a (fresh) access token before its next request.
bool needs_token(self_ptr self);
// Fetches one for the run (refresh_token or client_credentials grant); the run goes on from
// fetch_page once it is adopted.
void request_token(self_ptr self);
// An answer to a token request (the run's or connect's); false when `id` is none of them.
bool on_token_fetched(self_ptr self, uint64_t id, const http_response& resp);
// `test` of an OAuth integration without a current access token: fetches one (stored as a
// run's would be), then sends the probe; a sign-in that is missing or refused is the answer.
void test_after_token(self_ptr self, caf::typed_response_promise<std::string> rp);
// Sends the connection test's probe request; its answer comes back as fetched_atom.
void send_probe(self_ptr self, caf::typed_response_promise<std::string> rp);
// A page answered 401: true when a fresh token is being fetched for one more try.
bool reauthorize(self_ptr self);
// The `connect` operation's steps (JSON in, JSON out; see ops::connect_args).
caf::typed_response_promise<std::string> connect_step(self_ptr self, const std::string& args);
// Keeps the access token across new settings unless they change the sign-in itself.
void carry_access_token(self_ptr self, const integration_config& before);

}  // namespace ledgersync::integration_detail
