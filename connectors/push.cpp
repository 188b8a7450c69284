#include "connectors/push.hpp"

#include <set>

#include "connectors/registry.hpp"
#include "core/hex.hpp"
#include "model/decimal.hpp"
#include "model/entities.hpp"

namespace ledgersync {

using nlohmann::json;

const char* push_op_name(push_op op) {
  switch (op) {
    case push_op::create:
      return "create";
    case push_op::update:
      return "update";
    case push_op::upsert:
      return "upsert";
  }
  return "create";
}

std::optional<push_op> push_op_from(std::string_view s) {
  for (auto op : {push_op::create, push_op::update, push_op::upsert})
    if (s == push_op_name(op)) return op;
  return std::nullopt;
}

const char* push_status_name(push_status s) {
  switch (s) {
    case push_status::pending:
      return "pending";
    case push_status::sending:
      return "sending";
    case push_status::succeeded:
      return "succeeded";
    case push_status::failed:
      return "failed";
    case push_status::conflict:
      return "conflict";
    case push_status::superseded:
      return "superseded";
  }
  return "pending";
}

std::optional<push_status> push_status_from(std::string_view s) {
  for (auto st : {push_status::pending, push_status::sending, push_status::succeeded,
                  push_status::failed, push_status::conflict, push_status::superseded})
    if (s == push_status_name(st)) return st;
  return std::nullopt;
}

json push_item::to_json() const {
  json j{{"seq", seq},
         {"entity", entity},
         {"op", push_op_name(op)},
         {"external_id", external_id},
         {"fields", fields},
         {"status", push_status_name(status)},
         {"attempts", attempts},
         {"revision", revision},
         {"idempotency_key", idempotency_key},
         {"accepted_ms", accepted_ms},
         {"updated_ms", updated_ms}};
  if (!vendor_id.empty()) j["vendor_id"] = vendor_id;
  if (!base_version.empty()) j["base_version"] = base_version;
  if (!vendor_version.empty()) j["vendor_version"] = vendor_version;
  if (!message.empty()) j["message"] = message;
  if (!hint.empty()) j["hint"] = hint;
  if (!by.empty()) j["by"] = by;
  if (!errors.empty()) {
    json e = json::array();
    for (const auto& f : errors) e.push_back({{"field", f.field}, {"message", f.message}});
    j["errors"] = std::move(e);
  }
  return j;
}

std::optional<push_item> push_item::from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  try {
    push_item it;
    it.seq = j.value("seq", uint64_t{0});
    it.entity = j.value("entity", "");
    auto op = push_op_from(j.value("op", ""));
    auto st = push_status_from(j.value("status", ""));
    if (!op || !st || it.entity.empty()) return std::nullopt;
    it.op = *op;
    it.status = *st;
    it.external_id = j.value("external_id", "");
    if (auto f = j.find("fields"); f != j.end() && f->is_object()) it.fields = *f;
    it.vendor_id = j.value("vendor_id", "");
    it.base_version = j.value("base_version", "");
    it.idempotency_key = j.value("idempotency_key", "");
    it.attempts = j.value("attempts", uint32_t{0});
    it.revision = j.value("revision", uint32_t{1});
    it.vendor_version = j.value("vendor_version", "");
    it.message = j.value("message", "");
    it.hint = j.value("hint", "");
    it.by = j.value("by", "");
    it.accepted_ms = j.value("accepted_ms", int64_t{0});
    it.updated_ms = j.value("updated_ms", int64_t{0});
    if (auto e = j.find("errors"); e != j.end() && e->is_array())
      for (const auto& f : *e) it.errors.push_back({f.value("field", ""), f.value("message", "")});
    return it;
  } catch (const json::exception&) {
    return std::nullopt;  // a field of the wrong type: not an item we wrote
  }
}

push_answer changed_at_vendor(const push_item& item, const std::string& vendor,
                              const std::string& id, const std::string& version_name,
                              const std::string& base, const std::string& now,
                              const std::string& integration) {
  push_answer a;
  a.status = push_status::conflict;
  a.vendor_id = id;
  a.message = "the " + item.entity + " " + id + " changed at " + vendor +
              " since the application read it: base_version " + base + ", " + vendor + "'s " +
              version_name + " now " + now;
  a.hint = reread_hint(integration, id);
  return a;
}

std::string reread_hint(const std::string& integration, const std::string& id) {
  // The id is the vendor's: quoted for the shell, so what it holds stays one argument.
  std::string quoted = "'";
  for (char ch : id) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return "read the record again (ledgersync records " + integration + " --id " + quoted +
         "'), then push with the new base_version";
}

push_answer gone_at_vendor(const push_item& item, const std::string& vendor,
                           const std::string& said) {
  push_answer a;
  a.status = push_status::failed;
  a.message = "the " + item.entity + " " + item.vendor_id + " no longer exists at " + vendor +
              (said.empty() ? "" : " (" + said + ")");
  a.hint = "push it with op create (or upsert without an id) if it should exist again";
  return a;
}

push_answer not_at_vendor(const push_item& item, const std::string& vendor) {
  auto a = gone_at_vendor(item, vendor);
  a.message = "no " + vendor + " " + item.entity + " carries the external_id " +
              model::quote_text(item.external_id) + "; an update needs the record to exist";
  a.hint = "push it with op upsert or create, or give its " + vendor + " id as fields.id";
  return a;
}

push_answer refused_by_vendor(const push_item& item, const std::string& vendor,
                              std::vector<field_error> errors, const std::string& fallback) {
  push_answer a;
  a.status = push_status::failed;
  a.errors = std::move(errors);
  std::string named;
  for (const auto& e : a.errors)
    if (!e.field.empty() && (", " + named + ", ").find(", " + e.field + ", ") == std::string::npos)
      named += (named.empty() ? "" : ", ") + e.field;
  if (a.errors.empty()) {
    a.message = fallback;
  } else {
    const auto& first = a.errors.front();
    a.message = vendor + " refused the " + item.entity + ": " +
                (first.field.empty() ? "" : first.field + ": ") + first.message;
  }
  a.hint = named.empty() ? "correct the item as " + vendor + " says, then push it again"
                         : "correct " + named + ", then push the item again";
  return a;
}

std::string push_idempotency_key(const std::string& integration, const push_item& it,
                                 uint64_t nonce) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : integration + '\0' + it.entity + '\0' + it.external_id + '\0' +
                             std::to_string(it.revision) + '\0' + std::to_string(it.accepted_ms) +
                             '\0' + std::to_string(nonce))
    h = (h ^ c) * 1099511628211ull;
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i, h >>= 8) bytes[static_cast<size_t>(i)] = static_cast<char>(h);
  return "ls-" + hex(bytes) + "-" + std::to_string(it.revision);
}

push_placement place_push(std::optional<push_item> newest, push_item in, bool in_flight,
                          int64_t now) {
  push_placement p;
  in.accepted_ms = in.updated_ms = now;
  if (!newest) {
    if (in.op == push_op::update && in.vendor_id.empty()) {
      p.problem = in.external_id +
                  ": an update needs the vendor's id: give fields.id, or push it with op create "
                  "or upsert first";
      return p;
    }
    p.write = std::move(in);
    return p;
  }
  // The item a run is working on may be pending still (its lookup or read comes before the
  // write): its content is on its way, so the new push is an item of its own.
  if (newest->status == push_status::pending && !in_flight) {
    // Not sent yet: the new content replaces it, keeping its place, key and revision. An item
    // still to be created stays a create.
    auto w = *newest;
    w.fields = std::move(in.fields);
    if (newest->op != push_op::create) w.op = in.op;
    if (!in.vendor_id.empty()) w.vendor_id = in.vendor_id;
    if (!in.base_version.empty()) w.base_version = in.base_version;
    w.by = in.by;
    w.updated_ms = now;
    p.write = std::move(w);
    return p;
  }
  if (!is_final(newest->status) && in.op == push_op::create) {
    // The same create again while the first is on its way (an application retrying its own
    // request): one effect. Other content: it changes the record once the create has landed.
    if (newest->fields == in.fields) {
      p.unchanged = *newest;
      return p;
    }
    in.op = push_op::upsert;
  }
  in.revision = newest->revision + 1;
  if (in.vendor_id.empty()) in.vendor_id = newest->vendor_id;
  // The version our own last write left: a change at the vendor since then is a conflict.
  if (in.base_version.empty() && newest->status == push_status::succeeded &&
      in.vendor_id == newest->vendor_id)
    in.base_version = newest->vendor_version;
  if (newest->status == push_status::succeeded) {
    if (newest->fields == in.fields && in.op != push_op::update) {
      p.unchanged = *newest;
      return p;
    }
    if (in.op == push_op::create) {
      p.problem = in.external_id + ": already created as " + newest->vendor_id + " (item " +
                  std::to_string(newest->seq) +
                  "); push it with op update or upsert to change it";
      return p;
    }
  } else if (newest->status == push_status::failed || newest->status == push_status::conflict) {
    auto old = *newest;
    old.status = push_status::superseded;
    old.updated_ms = now;
    p.supersede = std::move(old);
  }
  // An update behind a create still on its way learns the vendor's id when the create lands.
  if (in.op == push_op::update && in.vendor_id.empty() && is_final(newest->status)) {
    p.problem = in.external_id + ": an update needs the vendor's id, and no push of it (item " +
                std::to_string(newest->seq) + ") has one";
    return p;
  }
  p.write = std::move(in);
  return p;
}

std::unique_ptr<push_writer> make_push_writer(const integration_config& config) {
  const auto* kind = find_connector_kind(config.connector);
  if (!kind || !kind->make_writer) return nullptr;
  return kind->make_writer(config);
}

namespace {

// Fields the vendor computes: an application cannot set them, and a push that tries would
// silently differ from what the vendor stores.
const std::set<std::string, std::less<>> computed = {
    "balance", "subtotal", "tax_total", "total", "amount_paid", "amount_due", "updated_at"};

// Fields a push may carry beyond the canonical model's, by entity.
bool push_only_field(const std::string& entity, const std::string& k) {
  if (entity == "invoice") return k == "lines" || k == "customer_external_id";
  if (entity == "payment")
    return k == "invoice_external_id" || k == "customer_external_id" || k == "account";
  return false;
}

bool is_decimal(const json& v) {
  return v.is_string() && model::decimal::parse(v.get_ref<const std::string&>()).ok();
}

void check_lines(const json& lines, std::vector<std::string>& out) {
  if (!lines.is_array() || lines.empty()) {
    out.push_back("lines: must be a non-empty array of {description, quantity, unit_price}");
    return;
  }
  if (lines.size() > 500) out.push_back("lines: at most 500 lines");
  for (size_t i = 0; i < lines.size() && i < 500; ++i) {
    const auto& l = lines[i];
    std::string at = "lines/" + std::to_string(i);
    if (!l.is_object()) {
      out.push_back(at + ": must be an object");
      continue;
    }
    auto d = l.find("description");
    if (d == l.end() || !d->is_string() || d->get_ref<const std::string&>().empty())
      out.push_back(at + "/description: is missing");
    auto p = l.find("unit_price");
    if (p == l.end()) out.push_back(at + "/unit_price: is missing");
    else if (!is_decimal(*p)) out.push_back(at + "/unit_price: must be a decimal string (\"12.50\")");
    if (auto q = l.find("quantity"); q != l.end() && !is_decimal(*q))
      out.push_back(at + "/quantity: must be a decimal string (\"1\", \"2.5\")");
    for (const char* k : {"account_code", "tax_code", "item_code"})
      if (auto v = l.find(k); v != l.end() && !v->is_string())
        out.push_back(at + "/" + k + ": must be a string");
    for (const auto& [k, v] : l.items()) {
      (void)v;
      static const std::set<std::string, std::less<>> known = {
          "description", "quantity", "unit_price", "account_code", "tax_code", "item_code"};
      if (!known.count(k)) out.push_back(at + "/" + k + ": is not a field of an invoice line");
    }
  }
}

}  // namespace

std::vector<std::string> check_push_fields(const std::string& entity, push_op op,
                                           const json& fields) {
  std::vector<std::string> out;
  if (entity != "customer" && entity != "invoice" && entity != "payment")
    return {"entity: must be customer, invoice or payment, got " + model::quote_text(entity)};
  if (!fields.is_object()) return {"fields: must be an object"};
  // The canonical model checks the shapes (currency codes, amounts at the currency's
  // exponent, dates, choices); a push then needs less than a synced record (no vendor id yet,
  // no computed totals), so "is missing" is decided here instead.
  model::canonical_record r;
  r.entity = entity;
  r.id = fields.contains("id") && fields["id"].is_string() ? fields["id"].get<std::string>() : "-";
  for (const auto& [k, v] : fields.items())
    if (!push_only_field(entity, k)) r.fields[k] = v;
  for (const auto& p : model::validate(r)) {
    if (p.message == "is missing") continue;
    out.push_back(p.field + ": " + p.message);
  }
  for (const auto& [k, v] : fields.items()) {
    (void)v;
    if (computed.count(k)) out.push_back(k + ": is the vendor's to compute; leave it out");
  }
  if (entity == "invoice" && fields.contains("lines")) check_lines(fields["lines"], out);
  for (const char* k : {"customer_external_id", "invoice_external_id", "account"})
    if (auto v = fields.find(k); v != fields.end() && (!v->is_string() || v->get_ref<const std::string&>().empty()))
      out.push_back(std::string(k) + ": must be a non-empty string");
  if (op == push_op::update) return out;  // an update sends only what it names
  auto need = [&](std::initializer_list<const char*> any_of) {
    for (const char* k : any_of)
      if (fields.contains(k)) return;
    std::string names;
    for (const char* k : any_of) names += (names.empty() ? "" : " or ") + std::string(k);
    out.push_back(names + ": is missing");
  };
  if (entity == "customer") {
    need({"name"});
  } else if (entity == "invoice") {
    need({"customer_id", "customer_external_id"});
    need({"currency"});
    need({"issue_date"});
    need({"due_date"});
    if (!fields.contains("lines")) out.push_back("lines: is missing");
    if (auto s = fields.find("status");
        s != fields.end() && s->is_string() && *s != "draft" && *s != "open")
      out.push_back("status: a pushed invoice is draft or open");
  } else {
    need({"amount"});
    need({"currency"});
    need({"date"});
    need({"invoice_id", "invoice_external_id"});
  }
  return out;
}

namespace {

void read_item(const std::string& entity, const json& j, const std::string& where, push_input& in) {
  auto bad = [&](std::string why) { in.problems.push_back(where + ": " + std::move(why)); };
  if (!j.is_object()) return bad("must be a JSON object {\"external_id\", \"op\", \"fields\"}");
  push_item it;
  it.entity = entity;
  auto ext = j.find("external_id");
  if (ext == j.end() || !ext->is_string() || ext->get_ref<const std::string&>().empty())
    return bad("external_id: is missing (the application's own key for the record)");
  it.external_id = ext->get<std::string>();
  if (it.external_id.size() > 64) return bad("external_id: at most 64 characters");
  for (unsigned char c : it.external_id)
    if (c < 0x20 || c == 0x7f) return bad("external_id: must not contain control characters");
  if (auto op = j.find("op"); op != j.end()) {
    auto o = op->is_string() ? push_op_from(op->get_ref<const std::string&>()) : std::nullopt;
    if (!o) return bad("op: must be create, update or upsert");
    it.op = *o;
  } else {
    it.op = push_op::upsert;
  }
  auto f = j.find("fields");
  if (f == j.end()) return bad("fields: is missing");
  if (auto b = j.find("base_version"); b != j.end()) {
    if (!b->is_string()) return bad("base_version: must be a string");
    it.base_version = b->get<std::string>();
  }
  for (const auto& [k, v] : j.items()) {
    (void)v;
    if (k != "external_id" && k != "op" && k != "fields" && k != "base_version")
      return bad(k + ": is not a field of a push item (external_id, op, fields, base_version)");
  }
  auto problems = check_push_fields(entity, it.op, *f);
  for (auto& p : problems) bad("fields." + p);
  if (!problems.empty()) return;
  it.fields = *f;
  if (auto id = it.fields.find("id"); id != it.fields.end()) {
    it.vendor_id = id->get<std::string>();
    it.fields.erase(id);
  }
  in.items.push_back(std::move(it));
}

constexpr size_t max_items = 10000;  // per push: one transaction, one answer to read

void check_duplicates(push_input& in) {
  if (in.items.size() > max_items)
    in.problems.push_back("at most " + std::to_string(max_items) +
                          " items at once; split the file");
  std::set<std::string> seen;
  for (const auto& it : in.items)
    if (!seen.insert(it.external_id).second)
      in.problems.push_back("external_id " + model::quote_text(it.external_id) +
                            " appears twice; push one version of a record at a time");
}

}  // namespace

push_input parse_push_items(const std::string& entity, std::string_view ndjson) {
  push_input in;
  size_t line_no = 0, start = 0;
  while (start < ndjson.size()) {
    size_t end = ndjson.find('\n', start);
    if (end == std::string_view::npos) end = ndjson.size();
    auto line = ndjson.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::string where = "line " + std::to_string(line_no);
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      in.problems.push_back(where + ": not JSON");
      continue;
    }
    read_item(entity, j, where, in);
  }
  if (in.items.empty() && in.problems.empty()) in.problems.push_back("no items: the file is empty");
  check_duplicates(in);
  return in;
}

push_input parse_push_array(const std::string& entity, const json& array) {
  push_input in;
  if (!array.is_array()) {
    in.problems.push_back("items: must be an array");
    return in;
  }
  for (size_t i = 0; i < array.size(); ++i)
    read_item(entity, array[i], "items/" + std::to_string(i), in);
  if (in.items.empty() && in.problems.empty()) in.problems.push_back("items: is empty");
  check_duplicates(in);
  return in;
}

}  // namespace ledgersync
