#include "ops/operations.hpp"

#include <algorithm>
#include <limits>

namespace ledgersync::ops {

using nlohmann::json;

namespace {

// Reads an operation's arguments field by field; the first problem wins and names its field.
// Fields it was never asked for are unknown keys, reported by done().
class reader {
 public:
  reader(std::string_view op, const json& args) : op_(op), args_(args) {}

  void flag(const char* key, bool& out) {
    if (auto* v = take(key)) {
      if (!v->is_boolean()) return problem(key, "true or false");
      out = v->get<bool>();
    }
  }
  void text(const char* key, std::string& out) {
    if (auto* v = take(key)) {
      if (!v->is_string()) return problem(key, "a string");
      out = v->get<std::string>();
    }
  }
  void text(const char* key, std::optional<std::string>& out) {
    std::string s;
    if (args_.contains(key)) {
      text(key, s);
      out = s;
    }
  }
  void required_text(const char* key, std::string& out) {
    if (!args_.contains(key) && !err_) return problem(key, "a string", true);
    text(key, out);
    if (out.empty() && !err_) problem(key, "a non-empty string");
  }
  template <class T>
  void whole(const char* key, T& out, int64_t lo, int64_t hi) {
    if (auto* v = take(key)) {
      auto range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
      if (!v->is_number_integer()) return problem(key, range);
      // Unsigned values beyond int64 are out of any range we accept.
      if (v->is_number_unsigned() &&
          v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return problem(key, range);
      auto n = v->get<int64_t>();
      if (n < lo || n > hi) return problem(key, range);
      out = static_cast<T>(n);
    }
  }
  void array(const char* key, json& out) {
    if (auto* v = take(key)) {
      if (!v->is_array()) return problem(key, "an array");
      out = *v;
    }
  }
  void object(const char* key, json& out, bool required) {
    if (required && !args_.contains(key) && !err_) return problem(key, "an object", true);
    if (auto* v = take(key)) {
      if (!v->is_object()) return problem(key, "an object");
      out = *v;
    }
  }

  std::optional<op_error> done() {
    if (err_) return err_;
    for (auto& [k, v] : args_.items())
      if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) {
        std::string known;
        for (auto& s : seen_) known += (known.empty() ? "" : ", ") + s;
        return op_error{error_kind::invalid_argument,
                        std::string(op_) + ": unknown argument '" + k + "' (" +
                            (known.empty() ? "it takes none" : "it takes " + known) + ")",
                        k};
      }
    return std::nullopt;
  }

 private:
  const json* take(const char* key) {
    seen_.emplace_back(key);
    if (err_) return nullptr;
    auto it = args_.find(key);
    return it == args_.end() ? nullptr : &*it;
  }
  void problem(const char* key, const std::string& want, bool missing = false) {
    if (err_) return;
    std::string got;
    if (!missing) {
      got = args_[key].dump();
      if (got.size() > 40) got = got.substr(0, 37) + "...";
    }
    err_ = op_error{error_kind::invalid_argument,
                    std::string(op_) + ": " + key + " must be " + want +
                        (missing ? " (it is required)" : ", got " + got),
                    key};
  }

  std::string_view op_;
  const json& args_;
  std::vector<std::string> seen_;
  std::optional<op_error> err_;
};

template <class A>
std::variant<op_args, op_error> result(reader& r, A a) {
  if (auto e = r.done()) return *e;
  return op_args{std::move(a)};
}

// The argument-less operations need their name at hand for messages.
#define LEDGERSYNC_NO_ARGS(T, NAME)                          \
  std::variant<op_args, op_error> parse_##T(const json& a) { \
    reader r(NAME, a);                                       \
    return result(r, T##_args{});                            \
  }
LEDGERSYNC_NO_ARGS(ping, "ping")
LEDGERSYNC_NO_ARGS(list, "list")
LEDGERSYNC_NO_ARGS(status, "status")
LEDGERSYNC_NO_ARGS(show, "show")
LEDGERSYNC_NO_ARGS(enable, "enable")
LEDGERSYNC_NO_ARGS(disable, "disable")
LEDGERSYNC_NO_ARGS(remove, "remove")
LEDGERSYNC_NO_ARGS(test, "test")
#undef LEDGERSYNC_NO_ARGS

std::variant<op_args, op_error> parse_add(const json& a) {
  reader r("add", a);
  add_args x;
  r.object("config", x.config, true);
  r.flag("run_after_save", x.run_after_save);
  return result(r, std::move(x));
}

std::variant<op_args, op_error> parse_configure(const json& a) {
  reader r("configure", a);
  configure_args x;
  r.object("changes", x.changes, false);
  r.flag("run_after_save", x.run_after_save);
  return result(r, std::move(x));
}

std::variant<op_args, op_error> parse_sync(const json& a) {
  reader r("sync", a);
  sync_args x;
  r.flag("full", x.full);
  return result(r, x);
}

std::variant<op_args, op_error> parse_logs(const json& a) {
  reader r("logs", a);
  logs_args x;
  r.whole("limit", x.limit, 1, 100000);
  r.whole("run_id", x.run_id, 1, std::numeric_limits<int64_t>::max());
  r.text("level", x.level);
  if (!x.level.empty() && x.level != "debug" && x.level != "info" && x.level != "warn" &&
      x.level != "error")
    return op_error{error_kind::invalid_argument,
                    "logs: level must be one of debug, info, warn, error, got \"" + x.level + "\"",
                    "level"};
  return result(r, x);
}

std::variant<op_args, op_error> parse_records(const json& a) {
  reader r("records", a);
  records_args x;
  r.text("stream", x.stream);
  r.text("entity", x.entity);
  if (!x.stream.empty() && !x.entity.empty())
    return op_error{error_kind::invalid_argument, "records: give a stream or an entity, not both",
                    "entity"};
  r.text("id", x.id);
  r.text("after_stream", x.after_stream);
  r.text("after_id", x.after_id);
  std::string after;
  r.text("after", after);
  if (!after.empty()) {
    auto slash = after.find('/');
    if (slash == std::string::npos || slash == 0)
      return op_error{error_kind::invalid_argument,
                      "records: after must be STREAM/ID (the last row seen), got \"" + after + "\"",
                      "after"};
    x.after_stream = after.substr(0, slash);
    x.after_id = after.substr(slash + 1);
  }
  r.whole("limit", x.limit, 1, 10000);
  r.flag("include_deleted", x.include_deleted);
  return result(r, std::move(x));
}

std::variant<op_args, op_error> parse_run(const json& a) {
  reader r("run", a);
  run_args x;
  r.whole("run_id", x.run_id, 1, std::numeric_limits<int64_t>::max());
  r.whole("limit", x.limit, 1, 1000);
  return result(r, x);
}

std::variant<op_args, op_error> parse_wait(const json& a) {
  reader r("wait", a);
  wait_args x;
  if (!a.contains("run_id"))
    return op_error{error_kind::invalid_argument,
                    "wait: run_id must be given (the run to wait for)", "run_id"};
  r.whole("run_id", x.run_id, 1, std::numeric_limits<int64_t>::max());
  r.whole("timeout_ms", x.timeout_ms, 0, 25000);
  return result(r, x);
}

std::variant<op_args, op_error> parse_set_aside(const json& a) {
  reader r("set_aside", a);
  set_aside_args x;
  r.flag("include_dismissed", x.include_dismissed);
  return result(r, x);
}

std::variant<op_args, op_error> parse_dismiss(const json& a) {
  reader r("dismiss", a);
  dismiss_args x;
  r.required_text("id", x.id);
  r.text("stream", x.stream);
  r.text("by", x.by);
  return result(r, std::move(x));
}

std::variant<op_args, op_error> parse_changes(const json& a) {
  reader r("changes", a);
  changes_args x;
  r.whole("since", x.since, 0, std::numeric_limits<int64_t>::max());
  r.whole("limit", x.limit, 1, 10000);
  r.text("integration", x.integration);
  r.flag("with_records", x.with_records);
  r.whole("wait_ms", x.wait_ms, 0, 60000);
  return result(r, std::move(x));
}

std::variant<op_args, op_error> parse_connectors(const json& a) {
  reader r("connectors", a);
  connectors_args x;
  r.text("kind", x.kind);
  return result(r, std::move(x));
}

std::variant<op_args, op_error> parse_connect(const json& a) {
  reader r("connect", a);
  connect_args x;
  r.required_text("step", x.step);
  r.text("redirect_uri", x.redirect_uri);
  r.text("code", x.code);
  r.text("state", x.state);
  if (auto e = r.done()) return *e;
  auto need = [&](const char* key, const std::string& v) -> std::optional<op_error> {
    if (!v.empty()) return std::nullopt;
    return op_error{error_kind::invalid_argument,
                    "connect: " + std::string(key) + " is required for step " + x.step, key};
  };
  if (x.step == "begin") {
    if (auto e = need("redirect_uri", x.redirect_uri)) return *e;
  } else if (x.step == "finish") {
    if (auto e = need("code", x.code)) return *e;
    if (auto e = need("state", x.state)) return *e;
  } else if (x.step != "client_credentials") {
    return op_error{error_kind::invalid_argument,
                    "connect: step must be begin, finish or client_credentials, got \"" +
                        x.step.substr(0, 40) + "\"",
                    "step"};
  }
  return op_args{std::move(x)};
}

std::variant<op_args, op_error> parse_push(const json& a) {
  reader r("push", a);
  push_args x;
  r.text("entity", x.entity);
  r.text("ndjson", x.ndjson);
  r.whole("retry", x.retry, 1, std::numeric_limits<int64_t>::max());
  r.text("by", x.by);
  r.array("items", x.items);
  if (auto e = r.done()) return *e;
  int sources = !x.ndjson.empty() + !x.items.is_null() + (x.retry != 0);
  if (sources != 1)
    return op_error{error_kind::invalid_argument,
                    "push: give exactly one of items, ndjson or retry", "items"};
  if (x.retry == 0 && x.entity != "customer" && x.entity != "invoice" && x.entity != "payment")
    return op_error{error_kind::invalid_argument,
                    "push: entity must be customer, invoice or payment", "entity"};
  if (x.ndjson.size() > (size_t{16} << 20))
    return op_error{error_kind::invalid_argument, "push: at most 16 MiB of items at once",
                    "ndjson"};
  return op_args{std::move(x)};
}

std::variant<op_args, op_error> parse_pushes(const json& a) {
  reader r("pushes", a);
  pushes_args x;
  r.text("status", x.status);
  r.text("entity", x.entity);
  r.text("external_id", x.external_id);
  r.whole("after", x.after, 0, std::numeric_limits<int64_t>::max());
  r.whole("limit", x.limit, 1, 1000);
  if (auto e = r.done()) return *e;
  static const char* statuses[] = {"",       "pending",  "sending",
                                   "succeeded", "failed", "conflict", "superseded"};
  if (std::find(std::begin(statuses), std::end(statuses), x.status) == std::end(statuses))
    return op_error{error_kind::invalid_argument,
                    "pushes: status must be pending, sending, succeeded, failed, conflict or "
                    "superseded",
                    "status"};
  return op_args{std::move(x)};
}

using k = error_kind;

}  // namespace

const char* role_name(role r) {
  return r == role::admin ? "admin" : "viewer";
}

const std::vector<error_kind>& common_errors() {
  static const std::vector<error_kind> kinds{k::invalid_argument, k::unauthorized, k::forbidden,
                                             k::unavailable, k::internal};
  return kinds;
}

const std::vector<op_spec>& operations() {
  using r = role;
  using to = route;
  using n = name_use;
  static const std::vector<op_spec> table{
      {"ping", r::viewer, to::supervisor, n::ignored, {}, parse_ping},
      {"list", r::viewer, to::queries, n::none, {}, parse_list},
      {"status", r::viewer, to::queries, n::optional, {k::not_found}, parse_status},
      {"show", r::viewer, to::queries, n::required, {k::not_found}, parse_show},
      {"add", r::admin, to::supervisor, n::none, {k::conflict}, parse_add},
      {"configure", r::admin, to::supervisor, n::required, {k::not_found}, parse_configure},
      {"enable", r::admin, to::supervisor, n::required, {k::not_found}, parse_enable},
      {"disable", r::admin, to::supervisor, n::required, {k::not_found}, parse_disable},
      {"remove", r::admin, to::supervisor, n::required, {k::not_found}, parse_remove},
      {"test",
       r::admin,
       to::supervisor,
       n::required,
       {k::not_found, k::upstream_failed},
       parse_test},
      {"sync",
       r::admin,
       to::supervisor,
       n::required,
       {k::not_found, k::conflict, k::rate_limited},
       parse_sync},
      {"logs", r::viewer, to::queries, n::required, {k::not_found}, parse_logs},
      {"records", r::viewer, to::queries, n::required, {k::not_found}, parse_records},
      {"run", r::viewer, to::queries, n::required, {k::not_found}, parse_run},
      {"wait", r::viewer, to::queries, n::required, {k::not_found}, parse_wait},
      {"set_aside", r::viewer, to::queries, n::required, {k::not_found}, parse_set_aside},
      {"dismiss", r::admin, to::supervisor, n::required, {k::not_found}, parse_dismiss},
      {"changes", r::viewer, to::queries, n::none, {k::not_found, k::rate_limited}, parse_changes},
      {"connectors", r::viewer, to::queries, n::none, {k::not_found}, parse_connectors},
      {"connect",
       r::admin,
       to::supervisor,
       n::required,
       {k::not_found, k::conflict, k::upstream_failed},
       parse_connect},
      {"push", r::admin, to::supervisor, n::required, {k::not_found, k::conflict}, parse_push},
      {"pushes", r::viewer, to::queries, n::required, {k::not_found}, parse_pushes},
  };
  return table;
}

const op_spec* find(std::string_view name) {
  for (auto& op : operations())
    if (op.name == name) return &op;
  return nullptr;
}

bool declares(const op_spec& op, error_kind kind) {
  auto& c = common_errors();
  return kind == error_kind::none || std::find(c.begin(), c.end(), kind) != c.end() ||
         std::find(op.errors.begin(), op.errors.end(), kind) != op.errors.end();
}

std::variant<op_args, op_error> parse_request(const op_spec& op, const std::string& name,
                                              const json& args) {
  auto op_name = std::string(op.name);
  if (op.target == name_use::required && name.empty())
    return op_error{error_kind::invalid_argument, op_name + ": an integration name is required",
                    "name"};
  if (op.target == name_use::none && !name.empty())
    return op_error{error_kind::invalid_argument,
                    op_name + " takes no integration name (got '" + name + "')", "name"};
  if (!args.is_object())
    return op_error{error_kind::invalid_argument,
                    op_name + ": args (the arguments) must be a JSON object", "args"};
  return op.parse(args);
}

json hint_with_action(const std::string& hint, std::string_view op, const std::string& name) {
  return json{{"hint", hint}, {"action", {{"op", std::string(op)}, {"name", name}}}};
}

}  // namespace ledgersync::ops
