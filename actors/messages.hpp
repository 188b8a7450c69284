// Every message of ledgersync's actors, and their typed interfaces. This is the one header that
// says who may send what to whom. Every type here has `inspect`, so each message can cross a
// process boundary (the CLI talks to the engine over CAF's middleman today; nodes may later).
#pragma once

#include <caf/all.hpp>
#include <cstdint>
#include <string>

#include "connectors/http_types.hpp"
#include "ops/error_kind.hpp"
#include "storage/storage.hpp"

namespace ledgersync {

struct status_inputs;  // core/status_model.hpp

// ---- atoms (at most 10 characters) ---------------------------------------------------------
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using configure_atom = caf::atom_constant<caf::atom("configure")>;
using enable_atom = caf::atom_constant<caf::atom("enable")>;
using test_atom = caf::atom_constant<caf::atom("test")>;
using next_run_atom = caf::atom_constant<caf::atom("nextrun")>;
using fetched_atom = caf::atom_constant<caf::atom("fetched")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using schedule_atom = caf::atom_constant<caf::atom("schedule")>;
using unschedule_atom = caf::atom_constant<caf::atom("unsched")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using dismiss_atom = caf::atom_constant<caf::atom("dismiss")>;
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using prune_atom = caf::atom_constant<caf::atom("prune")>;
using prune_step_atom = caf::atom_constant<caf::atom("prunestep")>;
using feed_wait_atom = caf::atom_constant<caf::atom("feedwait")>;
using live_atom = caf::atom_constant<caf::atom("live")>;
using wait_atom = caf::atom_constant<caf::atom("waitrun")>;
using wait_over_atom = caf::atom_constant<caf::atom("waitover")>;
using status_changed_atom = caf::atom_constant<caf::atom("stchanged")>;
using removed_atom = caf::atom_constant<caf::atom("removed")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using feed_batch_atom = caf::atom_constant<caf::atom("feedbatch")>;
using source_atom = caf::atom_constant<caf::atom("source")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using push_atom = caf::atom_constant<caf::atom("push")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using sleep_atom = caf::atom_constant<caf::atom("sleep")>;
using doze_atom = caf::atom_constant<caf::atom("doze")>;

// ---- message types ---------------------------------------------------------------------------

// push: a run that only sends the outbox's items (accepted pushes, or ones a failure held).
enum class sync_kind : uint8_t { manual, scheduled, after_save, resume, push };
inline const char* sync_kind_name(sync_kind k) {
  switch (k) {
    case sync_kind::manual:
      return "manual";
    case sync_kind::scheduled:
      return "scheduled";
    case sync_kind::after_save:
      return "after_save";
    case sync_kind::resume:
      return "resume";
    case sync_kind::push:
      return "push";
  }
  return "manual";
}

struct sync_request {
  sync_kind kind = sync_kind::manual;
  bool full = false;  // ignore the watermark: fetch everything (upserts still dedupe)
};

enum class sync_outcome : uint8_t {
  started,       // a new run began: run_id
  joined,        // a run was already active: its run_id
  rate_limited,  // manual request refused: retry_after_ms
  disabled,      // the integration is disabled
  skipped,       // a scheduled fire found a run active; logged
};
inline const char* sync_outcome_name(sync_outcome o) {
  switch (o) {
    case sync_outcome::started:
      return "started";
    case sync_outcome::joined:
      return "joined";
    case sync_outcome::rate_limited:
      return "rate_limited";
    case sync_outcome::disabled:
      return "disabled";
    case sync_outcome::skipped:
      return "skipped";
  }
  return "started";
}

struct sync_reply {
  sync_outcome outcome = sync_outcome::started;
  uint64_t run_id = 0;
  int64_t retry_after_ms = 0;
  std::string message;
};

// From the CLI (and later the REST API) to the engine: operation `op` of the table in
// ops/operations.hpp, on integration `name`, with JSON `args`. `version` lets an older CLI talk
// to a newer service; `token` is the secret the service wrote into its data dir.
// Protocol 2: replies carry an error_kind, not a CLI exit code.
constexpr uint32_t protocol_version = 2;
struct client_request {
  uint32_t version = protocol_version;
  std::string token;
  std::string op;
  std::string name;
  std::string args = "{}";
  // Who asks: an HTTP API token's name, or the local CLI's user. Recorded in the sync log
  // beside every change it asks for.
  std::string by;
};

// `kind` says how the operation went (none: it did); for rate_limited `retry_after_ms` says
// when to try again. `body` is JSON: the result, or {error, field?, hint?, action?}.
struct client_reply {
  uint32_t version = protocol_version;
  error_kind kind = error_kind::none;
  int64_t retry_after_ms = 0;
  std::string body = "{}";
};

// The reply of protocol 1, whose `code` was the CLI's exit code. Kept, under its old type
// name, only so that each side can tell the other of a version mismatch in a form the other
// decodes: a service answers a protocol-1 CLI with it, and a CLI reads an old service's.
struct client_reply_v1 {
  uint32_t version = 1;
  int32_t code = 0;
  std::string body = "{}";
};

// What an integration actor hands over as it goes to sleep (see integration_actor's
// sleep_atom): what its status says while no actor runs, and what the next actor takes over.
struct integration_rest {
  bool slept = false;  // false: it was busy and stays awake
  std::string facts;   // status_facts as JSON: newer than the stored document's when a skip
                       // moved last_scheduled_ms without a write
  std::string connector, schedule;
  bool enabled = true;
  int64_t next_run_ms = 0;
  std::string last_skip_reason;  // a paused schedule logs its reason once, not once a wake
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, integration_rest& x) {
  return f(caf::meta::type_name("integration_rest"), x.slept, x.facts, x.connector, x.schedule,
           x.enabled, x.next_run_ms, x.last_skip_reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, error_info& x) {
  return f(caf::meta::type_name("error_info"), x.category, x.message, x.transport, x.retry_after_s,
           x.permanent, x.specific_hint, x.fix_settings);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response& x) {
  return f(caf::meta::type_name("http_response"), x.status, x.headers, x.body, x.error,
           x.peer_subject, x.peer_issuer, x.peer_not_after);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_write& x) {
  return f(caf::meta::type_name("record_write"), x.stream, x.id, x.updated_at, x.body, x.deleted,
           x.entity);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_aside_write& x) {
  return f(caf::meta::type_name("set_aside_write"), x.stream, x.id, x.body, x.missing);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_batch& x) {
  return f(caf::meta::type_name("write_batch"), x.integration, x.at_ms, x.records, x.cursors,
           x.log_events, x.run_id, x.run_patch, x.integration_doc, x.remove_integration,
           x.set_aside, x.dismiss, x.actor, x.seen_pass, x.sweep, x.outbox);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_write& x) {
  return f(caf::meta::type_name("outbox_write"), x.seq, x.entity, x.external_id, x.status, x.doc);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_result& x) {
  return f(caf::meta::type_name("batch_result"), x.inserted, x.updated, x.unchanged, x.deleted,
           x.set_aside_cleared, x.set_aside_dismissed, x.set_aside_total, x.outbox_seqs);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sync_request& x) {
  return f(caf::meta::type_name("sync_request"), x.kind, x.full);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sync_reply& x) {
  return f(caf::meta::type_name("sync_reply"), x.outcome, x.run_id, x.retry_after_ms, x.message);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_request& x) {
  return f(caf::meta::type_name("client_request"), x.version, x.token, x.op, x.name, x.args, x.by);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_reply& x) {
  return f(caf::meta::type_name("client_reply"), x.version, x.kind, x.retry_after_ms, x.body);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_reply_v1& x) {
  return f(caf::meta::type_name("client_reply_v1"), x.version, x.code, x.body);
}

// ---- interfaces --------------------------------------------------------------------------------

// The single LMDB writer (log writer). Each write is answered only after the transaction that
// holds it is durable; writes queued together share one transaction (group commit). A failed
// commit answers every write of the group with an error; nothing of them is stored.
//
// It also prunes each integration's sync log and run history to the integration's retention, in
// the background: every minute a pass over the integrations, in steps of a bounded number of
// deletes, each its own small transaction that goes behind the writes already queued, so a page
// commit waits for at most one step.
using log_writer_actor = caf::typed_actor<
    // Apply this batch atomically; reply with what changed.
    caf::replies_to<write_atom, write_batch>::with<batch_result>,
    // (self) commit everything pending as one transaction.
    caf::reacts_to<flush_atom>,
    // Change-feed subscription for long polls (`changes` with a wait): answered with the feed's
    // last sequence as soon as a commit takes it beyond `since` (at once when it already is).
    // The caller bounds the wait with its own request timeout; the writer lets a waiter go on
    // its next retention timer once `wait_ms` has passed.
    caf::replies_to<feed_wait_atom, uint64_t /*since*/, int64_t /*wait_ms*/>::with<uint64_t>,
    // (self) the retention timer: start a pruning pass over every integration.
    caf::reacts_to<prune_atom>,
    // (self) one pruning step: at most a bounded number of deletes in one transaction.
    caf::reacts_to<prune_step_atom>>;

// One integration: owns its config, status, cursors, active run, buckets and retry policy.
using integration_actor = caf::typed_actor<
    // Start a run, join the active one, or refuse (rate limit, disabled, scheduled-skip).
    caf::replies_to<sync_atom, sync_request>::with<sync_reply>,
    // Status document (JSON, see status_json).
    caf::replies_to<status_atom>::with<std::string>,
    // New settings (integration JSON with the plaintext key); answered after they are durable.
    caf::replies_to<configure_atom, std::string>::with<bool>,
    // Enable or disable; disabling cancels the active run and keeps settings and cursors.
    caf::replies_to<enable_atom, bool>::with<bool>,
    // Test the connection with one small request; JSON {ok, category, message, hint}. Success
    // lifts the pause that refused credentials put on scheduled syncs.
    caf::replies_to<test_atom>::with<std::string>,
    // Sign in with OAuth (ops::connect_args as JSON): begin (the authorize URL for a loopback
    // redirect), finish (the code exchanged, the refresh token stored sealed) or
    // client_credentials; JSON {…} or {error, hint?}.
    caf::replies_to<connect_atom, std::string>::with<std::string>,
    // An admin (`by`) accepts set-aside record (stream, id) as unfixable; JSON
    // {dismissed, set_aside} or {error} when no such entry is counted.
    caf::replies_to<dismiss_atom, std::string, std::string, std::string>::with<std::string>,
    // Push records (ops::push_args as JSON): the items checked by the canonical model and the
    // vendor's rules, then committed to the outbox, then a run sends them. JSON {accepted,
    // unchanged, items:[{seq, external_id, status, revision}], run_id, held?} or {error,
    // problems:[…]} when anything is refused (then nothing is accepted).
    caf::replies_to<push_atom, std::string>::with<std::string>,
    // Answered when run `run_id` is over and its end is durable, or after `timeout_ms`,
    // whichever comes first: JSON {done, status} (status as status_json, with the progress
    // while the run goes on). A run that is not active (over, or unknown) is done at once.
    caf::replies_to<wait_atom, uint64_t /*run_id*/, int64_t /*timeout_ms*/>::with<std::string>,
    // (self) waiter `id`'s timeout is over.
    caf::reacts_to<wait_over_atom, uint64_t>,
    // (self) write again what a failed commit left unrecorded (a run's end on a full disk).
    caf::reacts_to<persist_atom>,
    // (scheduler) when the next scheduled run is due, wall ms; 0 = none.
    caf::reacts_to<next_run_atom, int64_t>,
    // (transport) the answer to request `id`.
    caf::reacts_to<fetched_atom, uint64_t, http_response>,
    // (self) backoff or rate-limit wait `generation` is over.
    caf::reacts_to<retry_atom, uint64_t>,
    // (self) request `id` has taken too long.
    caf::reacts_to<deadline_atom, uint64_t>,
    // (engine) Go to sleep if idle: answered with what the status needs (slept) and the actor
    // stops; answered with slept = false when anything is under way or waited for.
    caf::replies_to<sleep_atom>::with<integration_rest>,
    // (self) every `sleep_after`: tell the engine when idle.
    caf::reacts_to<doze_atom>>;

// What a read of live status needs from the engine: the integration actors awake now, and the
// status inputs of those asleep (immutable snapshots, shared, so a `list` of 10,000 copies no
// document). One stopped after crashes is in neither: storage describes it. In-process only.
struct live_integrations {
  std::vector<std::pair<std::string, integration_actor>> entries;
  std::vector<std::pair<std::string, std::shared_ptr<const status_inputs>>> resting;
};

// Registry and supervisor: answers the operations routed to the supervisor (writes), and
// keeps each integration's actor only while it has something to do. An idle integration is
// asleep: no actor, its status answered from what the engine keeps; whatever needs the actor
// (an operation, a scheduled fire) wakes it from the stored document first.
using engine_actor =
    caf::typed_actor<caf::replies_to<client_request>::with<client_reply>,
                     // The integrations awake and asleep (only `name`'s, unless empty): what a read
                     // of live status asks for.
                     caf::replies_to<live_atom, std::string>::with<live_integrations>,
                     // (scheduler) A fire of `name`'s schedule: woken if asleep, then asked.
                     caf::replies_to<sync_atom, std::string, sync_request>::with<sync_reply>,
                     // (scheduler) when `name`'s next scheduled run is due, wall ms; 0 = none.
                     caf::reacts_to<next_run_atom, std::string, int64_t>,
                     // (integration) `name`'s actor has been idle: the engine may ask it to sleep.
                     caf::reacts_to<idle_atom, std::string, integration_actor>>;

// Knows every schedule; fires sync(scheduled) when due, through the engine, which wakes the
// integration if it is asleep.
using scheduler_actor = caf::typed_actor<
    // Add or replace `name`'s schedule (`full`: its reconcile schedule, whose fires are full
    // passes); `last_fire_ms` lets a missed fire run once on start-up.
    caf::reacts_to<schedule_atom, std::string, std::string, int64_t, bool, engine_actor>,
    // Drops both of `name`'s schedules.
    caf::reacts_to<unschedule_atom, std::string>,
    // (self) `name`'s timer of generation `gen` is due.
    caf::reacts_to<tick_atom, std::string, uint64_t>>;

// Live status for whoever watches it (the page's server-sent events, webhooks). Integration
// actors publish their status document as it changes; the feed keeps the latest of each and
// hands watchers what changed, coalesced, at most every 250 ms. Time alone changes a status too
// (stale, the next run), so the feed also reads every status (`list`) every 30 s.
using status_feed_actor = caf::typed_actor<
    // (integration) `name`'s status document (status_json) as it is now.
    caf::reacts_to<status_changed_atom, std::string, std::string>,
    // (engine) `name` was removed.
    caf::reacts_to<removed_atom, std::string>,
    // A watcher: it gets (feed_batch_atom, JSON {"snapshot": bool, "changed": [docs],
    // "removed": [names]}), the first a snapshot of every integration, until it exits.
    caf::reacts_to<watch_atom, caf::actor>,
    // Where the full reading comes from (the front door) and the credential to ask it with.
    caf::reacts_to<source_atom, caf::actor, std::string>,
    // (self) hand the pending changes to the watchers.
    caf::reacts_to<flush_atom>,
    // (self) read every status again.
    caf::reacts_to<refresh_atom>>;

// A worker of the queries: answers the operations routed to the queries (reads of stored
// state, and live status by asking the integration actors the engine names). Several run as a
// pool, so one slow read holds up neither the engine nor the other reads.
using queries_actor = caf::typed_actor<caf::replies_to<client_request>::with<client_reply>>;

}  // namespace ledgersync

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ledgersync::live_integrations)

namespace ledgersync {

// Registers every message type above (needed once per actor system, CLI and service alike).
void add_message_types(caf::actor_system_config& cfg);

}  // namespace ledgersync
