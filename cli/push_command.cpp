#include "cli/push_command.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>

#include "cli/errors.hpp"
#include "cli/render.hpp"

namespace ledgersync::cli {

using nlohmann::json;

namespace {

constexpr size_t max_file_bytes = size_t{16} << 20;  // the service takes no more at once

std::string local_user() {
  auto* pw = ::getpwuid(::geteuid());
  return pw ? pw->pw_name : "uid " + std::to_string(::geteuid());
}

// The whole file, or an exit: a missing or oversized file is the user's to fix.
std::string read_items(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) die(usage, "cannot read " + path, "--file names an NDJSON file, one item per line");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (text.size() > max_file_bytes)
    die(usage, path + " is larger than 16 MiB", "split it into several pushes");
  return text;
}

// Text from the vendor or the application, safe on a terminal: control characters (escape
// sequences among them) shown as '?'.
std::string shown(const json& v) {
  std::string out = v.is_string() ? v.get<std::string>() : v.dump();
  for (auto& ch : out)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return out;
}

// One line per item: where it stands and, refused, what to correct.
void print_item(const json& it) {
  std::cout << it.value("seq", uint64_t{0}) << "  " << shown(it.value("entity", "")) << "  "
            << shown(it.value("external_id", "")) << "  " << shown(it.value("op", "")) << "  "
            << shown(it.value("status", ""));
  if (it.contains("vendor_id")) std::cout << "  " << shown(it["vendor_id"]);
  std::cout << "\n";
  auto status = it.value("status", "");
  if (status != "failed" && status != "conflict") return;
  if (it.contains("errors") && it["errors"].is_array())
    for (auto& e : it["errors"])
      std::cout << "    " << (e.value("field", "").empty() ? "(record)" : shown(e.value("field", "")))
                << ": " << shown(e.value("message", "")) << "\n";
  else if (it.contains("message"))
    std::cout << "    " << shown(it["message"]) << "\n";
  if (it.contains("hint")) std::cout << "    what to do: " << shown(it["hint"]) << "\n";
}

// The items with these seqs, as the service holds them now.
std::vector<json> items_by_seq(service_client& c, const std::string& name,
                               const std::set<uint64_t>& seqs, int& code) {
  std::vector<json> out;
  if (seqs.empty()) return out;
  uint64_t after = *seqs.begin() - 1;
  while (out.size() < seqs.size()) {
    auto r = c.call("pushes", name, {{"after", after}, {"limit", 1000}});
    if (r.code != 0) {
      print_error(r);
      code = r.code;
      return out;
    }
    for (auto& it : r.body["items"])
      if (seqs.count(it.value("seq", uint64_t{0}))) out.push_back(it);
    if (!r.body["next_after"].is_number()) break;
    after = r.body["next_after"].get<uint64_t>();
  }
  return out;
}

}  // namespace

int run_push(service_client& c, const std::string& name, const push_options& o) {
  if ((o.retry != 0) == !o.file.empty())
    die(usage, "push: give --file ITEMS.ndjson (with --entity) or --retry SEQ",
        "`ledgersync push --help` shows the item format");
  json args{{"by", local_user()}};
  if (o.retry) {
    args["retry"] = o.retry;
  } else {
    if (o.entity.empty())
      die(usage, "push: --entity is required with --file", "customer, invoice or payment");
    args["entity"] = o.entity;
    args["ndjson"] = read_items(o.file);
  }
  auto r = c.call("push", name, args);
  if (r.code != 0) {
    print_error(r);
    if (!json_errors_on() && r.body.contains("problems"))
      for (auto& p : r.body["problems"]) std::cerr << "  " << p.get<std::string>() << "\n";
    return r.code;
  }
  auto& b = r.body;
  std::set<uint64_t> seqs;
  for (auto& it : b["items"]) seqs.insert(it.value("seq", uint64_t{0}));
  if (!o.wait || !b.contains("run_id")) {
    if (o.json_out) {
      std::cout << b.dump() << "\n";
    } else {
      std::cout << b.value("accepted", 0) << " item(s) accepted";
      if (b.value("unchanged", 0)) std::cout << ", " << b["unchanged"] << " unchanged";
      if (b.contains("run_id")) std::cout << "; run " << b["run_id"] << " sends them";
      std::cout << "\n";
      if (b.contains("held")) std::cout << "held: " << b["held"].get<std::string>() << "\n";
    }
    if (o.wait && b.contains("held")) return failed;  // --wait: they are not sent
    return ok;
  }
  auto run_id = b["run_id"].get<uint64_t>();
  if (!o.json_out)
    std::cout << b.value("accepted", 0) << " item(s) accepted; run " << run_id
              << " sends them" << std::endl;
  json run;
  for (;;) {
    auto w = c.call("wait", name, {{"run_id", run_id}, {"timeout_ms", 20000}});
    if (w.code != 0) {
      print_error(w);
      return w.code;
    }
    if (w.body.value("done", false)) {
      run = w.body.value("run", json::object());
      break;
    }
  }
  int code = ok;
  auto items = items_by_seq(c, name, seqs, code);
  if (code != ok) return code;
  size_t good = 0, open = 0;
  for (auto& it : items) {
    if (o.json_out)
      std::cout << it.dump() << "\n";
    else
      print_item(it);
    auto st = it.value("status", "");
    if (st == "succeeded") ++good;
    if (st == "pending" || st == "sending") ++open;
  }
  if (!o.json_out) {
    std::cout << good << " of " << items.size() << " succeeded";
    if (open) {
      // Not refused: the run ended before it could send them (an outage, a rate limit).
      std::cout << "; " << open << " not sent yet: run " << run_id << " ended "
                << shown(run.value("status", "")) << " ("
                << shown(run.value("error", json::object()).value("message", "")) << ");"
                << " a later run sends them";
    }
    if (good + open < items.size())
      std::cout << "; `ledgersync pushes " << name << " --status failed` lists what to correct";
    std::cout << "\n";
  }
  return good == items.size() ? ok : failed;
}

int run_pushes(service_client& c, const std::string& name, const pushes_options& o) {
  uint64_t after = 0;
  size_t shown = 0;
  json counts;
  for (;;) {
    size_t page = o.limit ? std::min<size_t>(1000, o.limit - shown) : 1000;
    json args{{"after", after}, {"limit", page}};
    if (!o.status.empty()) args["status"] = o.status;
    if (!o.entity.empty()) args["entity"] = o.entity;
    if (!o.external_id.empty()) args["external_id"] = o.external_id;
    auto r = c.call("pushes", name, args);
    if (r.code != 0) {
      print_error(r);
      return r.code;
    }
    for (auto& it : r.body["items"]) {
      if (o.json_out)
        std::cout << it.dump() << "\n";
      else
        print_item(it);
    }
    shown += r.body["items"].size();
    counts = r.body["counts"];
    if (!r.body["next_after"].is_number() || (o.limit && shown >= o.limit)) break;
    after = r.body["next_after"].get<uint64_t>();
  }
  if (!o.json_out) {
    std::string line;
    for (auto& [k, v] : counts.items())
      line += (line.empty() ? "" : ", ") + std::to_string(v.get<uint64_t>()) + " " + k;
    std::cout << (line.empty() ? "nothing pushed yet" : line) << "\n";
  }
  return ok;
}

}  // namespace ledgersync::cli
