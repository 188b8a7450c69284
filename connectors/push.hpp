// The writing half of a connector: how one item of the outbox becomes requests to the vendor,
// and what the vendor's answers mean for it. Plain code, like the reading half
// (connectors/connector.hpp): the integration actor sends, paces, retries and records; a writer
// only builds requests and reads answers, so it is tested on canned answers alone.
//
// An item's exchange is a few steps: perhaps a lookup by the application's reference (a vendor
// with no idempotency key, after an attempt that may have landed), perhaps a read of the
// record's version (a vendor that checks concurrency only by comparing it), then the write. A
// step that writes is announced to the store first (the item becomes `sending`, durably), so
// after any crash the engine knows the write may have reached the vendor and starts the item
// again with `resumed`: the writer then re-sends with the same idempotency key, or looks the
// record up before creating it again. That is what makes the effect happen once.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/integration_config.hpp"
#include "connectors/http_types.hpp"

namespace ledgersync {

enum class push_op : uint8_t { create, update, upsert };
const char* push_op_name(push_op op);
std::optional<push_op> push_op_from(std::string_view s);

// pending: accepted, not sent. sending: a write may have reached the vendor. succeeded, failed
// and conflict are final; a failed or conflicting item that a new push of its external_id (or
// `push --retry`) replaced is superseded, so it no longer counts as refused.
enum class push_status : uint8_t { pending, sending, succeeded, failed, conflict, superseded };
const char* push_status_name(push_status s);
std::optional<push_status> push_status_from(std::string_view s);
inline bool is_final(push_status s) {
  return s != push_status::pending && s != push_status::sending;
}

// One thing the vendor refused, by our field name where the writer can tell which.
struct field_error {
  std::string field;    // canonical ("email", "lines/0/account_code"); "" when none is named
  std::string message;  // the vendor's words
};

// One item of the outbox, as stored (to_json) and as a writer sees it. Fields are canonical
// (model/entities.hpp) and never the vendor's; an invoice also has "lines" (README, "Pushing
// records"). References to records pushed earlier (`customer_external_id`,
// `invoice_external_id`) are resolved by the engine to the vendor's ids (`customer_id`,
// `invoice_id`) before the writer sees the item.
struct push_item {
  uint64_t seq = 0;  // the outbox's order, assigned when it is first stored
  std::string entity;
  push_op op = push_op::create;
  std::string external_id;
  nlohmann::json fields = nlohmann::json::object();
  // The vendor's id: given for an update, inherited from an earlier push of the same
  // external_id, or learnt from the answer.
  std::string vendor_id;
  // The vendor's version of the record as the application last read it (Xero UpdatedDateUTC,
  // QuickBooks SyncToken, Sage updated_at); an update of a record changed since is a conflict.
  // "" = unknown: taken from the synced copy when accepted, else not checked.
  std::string base_version;
  std::string idempotency_key;  // fixed when accepted, the same for every attempt
  push_status status = push_status::pending;
  uint32_t attempts = 0;  // writes sent for it
  uint32_t revision = 1;  // the how-many-th push of this external_id this is
  std::vector<field_error> errors;
  std::string message, hint;  // failed, conflict: what the vendor said and what to do
  std::string vendor_version;  // succeeded: the record's version after the write
  int64_t accepted_ms = 0, updated_ms = 0;
  std::string by;  // who pushed it
  // Not stored: how long the item has been `sending`, as the engine tells its writer (a vendor
  // that forgets idempotency keys after a while looks the record up past that).
  int64_t sending_for_ms = 0;

  nlohmann::json to_json() const;
  // Reads a stored item; nothing when `j` is not one.
  static std::optional<push_item> from_json(const nlohmann::json& j);
};

// One request of an item's exchange with the vendor.
struct push_step {
  std::string phase;     // the writer's own name for it ("lookup", "read", "write")
  bool writes = false;   // may change the vendor's data: the item becomes `sending` first
  http_request request;  // built on vendor_base_request, so pacing and sign-in are shared
};

// What one answer means. Exactly one of: error (retry), next (another step), or an outcome.
struct push_answer {
  // Not ok: the exchange did not settle (transport, timeout, 5xx, 429). The engine backs off
  // as for a page, then starts the item again (first_step, resumed when it was `sending`).
  // A permanent error of the connection itself (401, refused credentials) ends the run and
  // leaves the item as it is.
  error_info error;
  std::optional<push_step> next;
  push_status status = push_status::succeeded;  // succeeded, failed or conflict
  std::string vendor_id, vendor_version;
  std::vector<field_error> errors;
  std::string message, hint;
  // As page_result's: the upstream's quota is spent (its headers say so).
  int64_t pause_ms = 0, shared_pause_ms = 0;
};

class push_writer {
 public:
  virtual ~push_writer() = default;
  // "" when the vendor takes `op` on `entity`, else why not, in words for the user ("Xero
  // payments cannot be changed once made; push a new payment instead").
  virtual std::string refuses(const std::string& entity, push_op op) const = 0;
  // What the vendor's own rules refuse in `item` before it is accepted, each as
  // "fields.NAME: why" ("fields.name: Xero takes at most 255 characters"); none: accepted.
  virtual std::vector<std::string> check(const push_item& item) const = 0;
  // The vendor's version in a stored (synced) record's body, "" when it has none: the base an
  // update is checked against when the application gives none.
  virtual std::string version_of(const std::string& entity, std::string_view stored_body) const = 0;
  // The first request for `item`. `resumed`: a write may already have reached the vendor.
  virtual push_step first_step(const push_item& item, bool resumed) const = 0;
  virtual push_answer on_answer(const push_item& item, const push_step& step,
                                const http_response& r) const = 0;
};

// What a newly pushed item does against the newest stored item of its external_id (none: the
// first push of it). A pending item not yet on its way is replaced in place (keeping its seq,
// key and revision); the same content as what the vendor has, or as a create on its way, is
// `unchanged` (no second effect); a create of a record that exists is a `problem`; anything
// else is a new item (the next revision, inheriting the vendor's id and, as its base, the
// version our own last write left), beside which a failed or conflicting newest item is
// `supersede`d. `newest_in_flight`: a run is sending the newest item now.
struct push_placement {
  std::optional<push_item> write, supersede, unchanged;
  std::string problem;
};
push_placement place_push(std::optional<push_item> newest, push_item incoming,
                          bool newest_in_flight, int64_t now_ms);

// Unique per item and the same for each of its attempts, so the vendor's idempotency window
// covers an item's retries and restarts and never another item. A removed and re-added
// integration numbers revisions from 1 again, hence the acceptance time and `nonce` (random).
// At most 30 characters ("ls-" 16 hex digits "-" revision).
std::string push_idempotency_key(const std::string& integration, const push_item& item,
                                 uint64_t nonce);

// ---- what every writer answers alike ---------------------------------------------------------
// The record changed at `vendor` since the application read it: its `version_name` is `now`,
// not `base`. `integration` names the command that reads the record again.
push_answer changed_at_vendor(const push_item& item, const std::string& vendor,
                              const std::string& id, const std::string& version_name,
                              const std::string& base, const std::string& now,
                              const std::string& integration);
// What to do about a conflict: read the record again (the command, the id quoted for the shell).
std::string reread_hint(const std::string& integration, const std::string& id);
// An update of a record no vendor record carries the external_id of (found by looking it up):
// creating it would not be what was asked.
push_answer not_at_vendor(const push_item& item, const std::string& vendor);
// An update of a record the vendor no longer has; `said` is the vendor's own words, if any.
push_answer gone_at_vendor(const push_item& item, const std::string& vendor,
                           const std::string& said = "");
// The vendor's validation errors, by our field names: failed, the message naming the first
// and the hint every field to correct; `fallback` is the message when none came.
push_answer refused_by_vendor(const push_item& item, const std::string& vendor,
                              std::vector<field_error> errors, const std::string& fallback);

// `config` must outlive the writer. nullptr when the integration's kind cannot write.
std::unique_ptr<push_writer> make_push_writer(const integration_config& config);

// The application's items as they come (one JSON object per NDJSON line, or the API's array):
// {"external_id", "op" (default upsert), "fields": {...}} for `entity`; every problem with
// its line number, so a file is accepted whole or not at all.
struct push_input {
  std::vector<push_item> items;
  std::vector<std::string> problems;  // "line 3: fields.currency: must be an ISO 4217 code"
};
push_input parse_push_items(const std::string& entity, std::string_view ndjson);
push_input parse_push_array(const std::string& entity, const nlohmann::json& array);
// The problems of one item's fields for `entity` and `op`: shapes by the canonical model,
// what a create needs, invoice lines.
std::vector<std::string> check_push_fields(const std::string& entity, push_op op,
                                           const nlohmann::json& fields);

}  // namespace ledgersync
