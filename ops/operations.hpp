// The operations every surface offers (CLI over the control port, HTTP API, tests): one table
// with each operation's name, the role it needs, who answers it (the supervisor, which owns the
// integration actors, or the queries, which only read), its typed arguments parsed from JSON,
// and the error kinds it can return. The engine dispatches by this table; a surface is a thin
// adapter that names an operation, passes JSON arguments and maps the reply's error_kind.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ops/error_kind.hpp"

namespace ledgersync::ops {

enum class role : uint8_t { viewer, admin };
const char* role_name(role r);
// An admin may do everything a viewer may.
inline bool allows(role granted, role needed) {
  return granted == role::admin || needed == role::viewer;
}

// Who answers: writes and anything touching an integration actor go to the supervisor; reads
// of stored state go to the queries, so a slow read never stalls the supervisor's mailbox.
enum class route : uint8_t { supervisor, queries };

// What the request's `name` field means for the operation.
enum class name_use : uint8_t {
  none,      // no integration name (list, add, changes)
  ignored,   // ping: a liveness check answers whatever name comes with it
  optional,  // status: one integration, or all when empty
  required,  // the integration to act on; not_found when there is none by that name
};

// ---- typed arguments, one struct per operation ------------------------------------------------
struct ping_args {};
struct list_args {};
struct status_args {};
struct show_args {};
struct add_args {
  nlohmann::json config = nlohmann::json::object();  // integration settings (config_from_json)
  bool run_after_save = false;
};
struct configure_args {
  nlohmann::json changes = nlohmann::json::object();  // keys of the integration settings
  bool run_after_save = false;
};
struct enable_args {};
struct disable_args {};
struct remove_args {};
struct test_args {};
struct sync_args {
  bool full = false;  // ignore the watermark: fetch everything
};
struct logs_args {
  uint64_t limit = 50;  // newest N events (after the filters), 1..100000
  uint64_t run_id = 0;  // only this run's events (0 = all)
  std::string level;    // only events at this level or above: debug, info, warn, error
};
struct records_args {
  std::string stream;                  // one stream only ("" = all)
  std::string entity;                  // only the streams of this canonical entity (invoice, …)
  std::optional<std::string> id;       // one record by its upstream id
  std::string after_stream, after_id;  // paging: rows after this (stream, id)
  // The same as one opaque cursor (the HTTP API's `after`): "STREAM/ID" of the last row seen.
  uint64_t limit = 1000;  // 1..10000
  bool include_deleted = false;
};
// The end of a run: answered as soon as the run's end is durable (with its run document), or
// after `timeout_ms` with where the run stands (its progress), whichever comes first.
struct wait_args {
  uint64_t run_id = 0;         // required
  int64_t timeout_ms = 25000;  // 0..25000: 0 asks without waiting
};
struct run_args {
  uint64_t run_id = 0;  // 0: the history, newest first
  uint64_t limit = 20;  // for the history, 1..1000
};
struct set_aside_args {
  bool include_dismissed = false;
};
struct dismiss_args {
  std::string id;      // required
  std::string stream;  // when ids repeat across streams
  std::string by;      // who accepts it (recorded in the sync log)
};
struct changes_args {
  uint64_t since = 0;
  uint64_t limit = 1000;  // 1..10000
  std::string integration;
  bool with_records = false;
  int64_t wait_ms = 0;  // long poll, 0..60000
};
struct connectors_args {
  std::string kind;  // one connector kind in full ("" = a summary of every kind)
};

// Sign in with OAuth 2.0 (kinds with an OAuth flow): `begin` gives the authorize URL for a
// loopback redirect_uri (the PKCE verifier stays in the service), `finish` exchanges the code
// the redirect brought (state must match) and stores the refresh token sealed;
// `client_credentials` signs in with the client's id and secret alone.
struct connect_args {
  std::string step;  // begin, finish, client_credentials
  std::string redirect_uri, code, state;
};
// Push records to the vendor (connectors/push.hpp): `entity` and its items, as NDJSON text (the
// CLI's file) or a JSON array (the HTTP API); or `retry` one failed or conflicting item as it
// was. Accepted items are durable in the outbox before the reply.
struct push_args {
  std::string entity;                     // customer, invoice, payment
  std::string ndjson;                     // one item per line
  nlohmann::json items = nullptr;         // or: an array of items
  uint64_t retry = 0;                     // or: the item to send again
  std::string by;                         // who pushes (recorded on each item)
};
// The outbox of one integration: items in order, filtered.
struct pushes_args {
  std::string status;       // pending, sending, succeeded, failed, conflict ("" = all)
  std::string entity;       // "" = all
  std::string external_id;  // one record's items
  uint64_t after = 0;       // paging: items after this seq
  uint64_t limit = 100;     // 1..1000
};
using op_args =
    std::variant<ping_args, list_args, status_args, show_args, add_args, configure_args,
                 enable_args, disable_args, remove_args, test_args, sync_args, logs_args,
                 records_args, run_args, wait_args, set_aside_args, dismiss_args, changes_args,
                 connectors_args, connect_args, push_args, pushes_args>;

// A refusal as every surface reports it. `field` names the argument at fault, if one is.
struct op_error {
  error_kind kind = error_kind::invalid_argument;
  std::string message;
  std::string field;
};

struct op_spec {
  std::string_view name;
  role needs;
  ops::route route;
  name_use target;
  // The kinds this operation returns besides the ones every operation can (common_errors).
  std::vector<error_kind> errors;
  std::variant<op_args, op_error> (*parse)(const nlohmann::json& args);
};

// invalid_argument, unauthorized, forbidden, unavailable, internal.
const std::vector<error_kind>& common_errors();
bool declares(const op_spec& op, error_kind k);

const std::vector<op_spec>& operations();
const op_spec* find(std::string_view name);

// The whole request checked against the table: the operation exists, the name is given when
// required (and only then), the arguments are an object of the right fields and types.
std::variant<op_args, op_error> parse_request(const op_spec& op, const std::string& name,
                                              const nlohmann::json& args);

// A reply's advice, free of any surface's wording: what is wrong in plain words, and the
// operation that fixes it; each surface phrases the action (the CLI as a command, the page as a
// button). {"hint": HINT, "action": {"op": OP, "name": NAME}}.
nlohmann::json hint_with_action(const std::string& hint, std::string_view op,
                                const std::string& name);

}  // namespace ledgersync::ops
