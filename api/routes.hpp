// The /api/v1 route table: which operation a method and path stand for, how the path, the
// query and the body become the operation's arguments, the status a success is answered with
// and the role it needs (viewer reads, admin changes). Plain data and parsing, no I/O: the
// server asks `match` and `apply_body`, unit tests ask them directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/gateway.hpp"

namespace ledgersync::api {

// How a query parameter's text becomes an argument; a value that does not fit is a 400 naming
// the parameter.
enum class query_kind {
  count,     // positive integer, at most `max`
  sequence,  // integer >= 0 (a change-feed position, a log cursor)
  duration,  // "30s", "500ms", "2m" or plain seconds; at most `max` milliseconds; arg in ms
  level,     // debug, info, warn, error
  flag,      // true/false/1/0
  text,      // non-empty string
};

struct query_param {
  std::string name;  // in the URL
  query_kind kind;
  std::string arg;  // key in op_call::args
  int64_t max = 0;  // for count and duration
};

enum class body_use {
  none,      // no body expected (one sent is ignored if empty, else 400)
  args,      // the JSON object is the arguments
  changes,   // the JSON object goes to args["changes"] (configure)
  config,    // the JSON object goes to args["config"] (add)
  optional,  // like args, but an empty body is fine (sync's {"full": true})
};

struct route {
  route(std::string m, std::string p, std::string o, api::role r, int s,
        body_use b = body_use::none, std::vector<query_param> q = {})
      : method(std::move(m)),
        path(std::move(p)),
        op(std::move(o)),
        role(r),
        status(s),
        body(b),
        query(std::move(q)) {}
  std::string method;  // GET, POST, PATCH, DELETE
  std::string path;    // template: /api/v1/integrations/{name}/runs/{run_id}
  std::string op;      // the operation's name; "events" is the SSE stream
  api::role role;
  int status;  // on success; sync answers 200 instead of 202 when it joined a running sync
  body_use body;
  std::vector<query_param> query;
};

const std::vector<route>& routes();

// An answer other than the operation's: {"error": {"code", "message", "hint"}}.
struct api_error {
  api_error(int s = 500, std::string c = {}, std::string m = {}, std::string h = {},
            std::string a = {})
      : status(s),
        code(std::move(c)),
        message(std::move(m)),
        hint(std::move(h)),
        allow(std::move(a)) {}
  int status;
  std::string code, message, hint;
  std::string allow;  // for 405
};

nlohmann::json error_json(const std::string& code, const std::string& message,
                          const std::string& hint);
// invalid_argument -> 400, not_found -> 404, ... ; unknown kinds are 500.
int http_status_for(const std::string& kind);

struct matched {
  const api::route* route = nullptr;
  op_call call;  // op, integration and args from the path and query; no principal yet
};

// `target` is the request target (origin form, with query). Unknown path -> 404, a known path
// with another method -> 405 with `allow`, a bad query parameter -> 400 naming it.
struct match_outcome {
  const api::route* route = nullptr;  // set once method and path matched, even if the query is bad
  std::optional<matched> ok;
  api_error error;
};
match_outcome match(std::string_view method, std::string_view target);

// Puts the body into `call.args` as the route says. Non-JSON content type -> 415, bad JSON or
// not an object -> 400.
std::optional<api_error> apply_body(const route& r, std::string_view content_type,
                                    const std::string& body, op_call& call);

// "30s", "500ms", "2m", "15" (seconds) -> milliseconds; nullopt if not a duration.
std::optional<int64_t> parse_duration_ms(std::string_view text);

}  // namespace ledgersync::api
