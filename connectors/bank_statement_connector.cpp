#include "connectors/bank_statement_connector.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "connectors/connector.hpp"
#include "connectors/json_state.hpp"
#include "model/camt053.hpp"
#include "model/mt940.hpp"

namespace ledgersync {

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

// Where the statements stream stands in a drop folder: `after` is the last file of this pass
// (the next page is the first name after it), and `move` where it goes once its page is
// committed ("processed" or "rejected"; "" for none).
struct folder_state : json_state<folder_state> {
  std::string after, move;

  template <class S, class F>
  static void each_field(S& s, F&& f) {
    f("after", s.after);
    f("move", s.move);
  }
};

// What page_request asks for when no file is waiting: its 404 ends the pass.
const char* const kNoFile = ".ledgersync-no-statement";
const char* const kProbeFile = ".ledgersync-probe";

bool is_camt(std::string_view body) {
  auto at = body.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return at != std::string_view::npos && body[at] == '<';
}

// Every byte of the path but the unreserved ones and '/' percent-encoded: a file name is the
// sender's (an SFTP drop), and "..%2F..%2Fx", "a.sta#x" or a space must name exactly that file
// in the folder once the HTTP client decodes the URL, not another file or none.
std::string file_url(const std::string& path) {
  return "file://" + percent_encode(path, "/");
}

class bank_statement_connector final : public connector {
 public:
  explicit bank_statement_connector(const integration_config& c) : c_(c) {
    auto settings = c.settings.is_object() ? c.settings : json::object();
    folder_ = settings.value("folder", "");
    while (folder_.size() > 1 && folder_.back() == '/') folder_.pop_back();
    file_name_ = settings.value("file_name", "");
    format_ = settings.value("format", "auto");
  }

  std::string begin_pass(const stream_config&, const std::string&, bool) const override {
    return folder_state{}.dump();
  }

  std::string after_page(const stream_config&, const std::string& state,
                         const page_result& page) const override {
    if (!page.has_more) return folder_state{}.dump();
    auto st = folder_state::parse(state);
    // The token is "<move>:<file>": where the file read goes once committed.
    auto colon = page.next_token.find(':');
    st.move = page.next_token.substr(0, colon);
    st.after = colon == std::string::npos ? "" : page.next_token.substr(colon + 1);
    return st.dump();
  }

  std::string page_token(const std::string& state) const override {
    auto st = folder_state::parse(state);
    return st.after.empty() ? "" : st.move + ":" + st.after;
  }

  // The files stay until another pass finds them; earlier statements are not gone for that.
  bool full_pass_sees_everything(const stream_config&) const override { return false; }

  http_request page_request(const stream_config&, const stream_cursor& c) const override {
    auto r = request();
    if (folder_.empty()) {
      r.url = url();
      return r;
    }
    next_file_ = next_file(folder_state::parse(c.state).after, list_error_);
    r.url = file_url(folder_ + "/" + (next_file_.empty() ? kNoFile : next_file_));
    r.allow_file = true;
    r.allowed_origin.clear();
    return r;
  }

  // A drop folder: a probe file written and read back proves the folder is there, writable
  // (files move out of it) and readable.
  http_request probe_request(const stream_config&) const override {
    auto r = request();
    r.timeout_ms = std::min<int64_t>(r.timeout_ms, 15000);
    if (folder_.empty()) {
      r.url = url();
      return r;
    }
    // Not through a symlink someone with write access to the drop folder left under that name.
    int fd = ::open((folder_ + "/" + kProbeFile).c_str(),
                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      [[maybe_unused]] auto n = ::write(fd, "\n", 1);
      ::close(fd);
    }
    r.url = file_url(folder_ + "/" + kProbeFile);
    r.allow_file = true;
    r.allowed_origin.clear();
    return r;
  }

  page_result parse_page(const stream_config& s, const stream_cursor&,
                         const http_response& resp) override {
    page_result out;
    auto what = "stream " + s.name;
    if (!folder_.empty()) {
      auto file = std::exchange(next_file_, "");
      if (!list_error_.empty()) {
        out.error = make_error_info(error_category::config, what + ": " + list_error_);
        return out;
      }
      if (file.empty()) return out;  // no file waiting: the pass ends
      out.has_more = true;
      // Taken away since it was listed (another reader): on to the next.
      if (resp.status == 404) {
        out.next_token = ":" + file;
        return out;
      }
      // A file that cannot be a statement (over max_body_bytes, not a regular file) is set
      // aside like a malformed one: failing the run on it would hold up every file after it.
      if (resp.status == 0 &&
          (resp.error.permanent || resp.error.category == error_category::config)) {
        out.rejected.push_back(file + " moved to rejected/: " + resp.error.message);
        out.next_token = "rejected:" + file;
        return out;
      }
      out.error = classify_response(resp, what + ": " + file);
      if (!out.error.ok()) return out;
      auto parsed = parse(s.name, resp.body, out);
      if (!parsed.empty()) {
        out.records.clear();
        out.invalid.clear();
        out.rejected.push_back(file + " moved to rejected/: " + parsed);
        out.next_token = "rejected:" + file;
        return out;
      }
      out.next_token = "processed:" + file;
      return out;
    }
    out.error = classify_response(resp, what);
    if (!out.error.ok()) return out;
    if (auto bad = parse(s.name, resp.body, out); !bad.empty())
      out.error = make_error_info(error_category::upstream, what + ": " + bad);
    return out;
  }

  void committed(const stream_config&, const std::string& state) override {
    auto st = folder_state::parse(state);
    if (folder_.empty() || st.after.empty() || st.move.empty()) return;
    std::error_code ec;
    if (!fs::is_regular_file(folder_ + "/" + st.after, ec)) return;  // moved already
    std::string error;
    move_aside(folder_, st.after, st.move, error);
    // The records are committed; the file stays and the next pass reads it again (nothing
    // changes), so a folder that refuses the move costs a log line, not data.
    if (!error.empty()) spdlog::error("{}: {}", c_.name, error);
  }

 private:
  // The first statement file after `after` in name order, "" for none.
  std::string next_file(const std::string& after, std::string& error) const {
    error.clear();
    std::error_code ec;
    std::string best;
    fs::directory_iterator it(folder_, ec), end;
    if (ec) {
      error = "the drop folder " + folder_ + " cannot be read: " + ec.message();
      return "";
    }
    for (; it != end; it.increment(ec)) {
      if (ec) break;
      auto name = it->path().filename().string();
      if (name.empty() || name[0] == '.' || !it->is_regular_file(ec)) continue;
      if (name > after && (best.empty() || name < best)) best = name;
    }
    return best;
  }

  // The statement's records into `out`; the reason the whole file is refused, or "".
  std::string parse(const std::string& stream, const std::string& body, page_result& out) const {
    bool camt = format_ == "camt053" || (format_ == "auto" && is_camt(body));
    auto recs = camt ? model::parse_camt053(body) : model::parse_mt940(body);
    if (!recs.ok()) return std::string(camt ? "camt.053: " : "MT940: ") + recs.error;
    for (auto& rec : *recs) {
      auto day = rec.fields.value(rec.entity == "balance" ? "date" : "booking_date", "");
      auto updated = day.empty() ? "" : day + "T00:00:00Z";
      if (updated > out.max_updated) out.max_updated = updated;
      if (auto problems = model::validate(rec); !problems.empty()) {
        invalid_record bad;
        bad.id = rec.id;
        for (auto& p : problems) bad.missing.push_back(p.field);
        bad.body = model::to_json_text(rec);
        out.invalid.push_back(std::move(bad));
        continue;
      }
      record_write w;
      w.stream = stream;
      w.id = rec.id;
      w.entity = rec.entity;
      w.updated_at = std::move(updated);
      w.body = model::to_json_text(rec);
      w.hash_body();  // here, off the writer's thread
      out.records.push_back(std::move(w));
    }
    return "";
  }

  std::string url() const {
    std::string b = c_.base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b + "/" + file_name_;
  }

  http_request request() const {
    http_request r;
    r.timeout_ms = c_.request_timeout_ms;
    r.max_body_bytes = c_.max_body_bytes;
    r.allowed_origin = origin_of(c_.base_url);
    r.headers.emplace_back("Accept", "application/xml, text/plain, */*");
    if (!c_.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + c_.api_key);
    for (auto& [k, v] : c_.headers) r.headers.emplace_back(k, v);
    return r;
  }

  const integration_config& c_;
  std::string folder_, file_name_, format_;
  // The file page_request asked for, read back by the parse_page that follows it (the engine
  // has one request of an integration in flight at a time).
  mutable std::string next_file_, list_error_;
};

std::vector<stream_config> bank_statement_streams() {
  stream_config s;
  s.name = "statements";
  s.entity = "bank_transaction";
  s.path = "/statements";
  s.paging = pagination_style::none;
  s.records_pointer.clear();
  s.updated_pointer.clear();
  s.incremental_param.clear();
  s.page_size_param.clear();
  s.total_pointer.clear();
  return {s};
}

}  // namespace

std::string move_aside(const std::string& folder, const std::string& name, const std::string& sub,
                       std::string& error) {
  std::error_code ec;
  fs::path dir = fs::path(folder) / sub;
  fs::create_directories(dir, ec);
  if (ec) {
    error = "cannot create " + dir.string() + ": " + ec.message();
    return "";
  }
  auto stem = fs::path(name).stem().string(), ext = fs::path(name).extension().string();
  fs::path to = dir / name;
  for (int n = 2; fs::exists(to, ec); ++n) to = dir / (stem + "." + std::to_string(n) + ext);
  fs::rename(fs::path(folder) / name, to, ec);
  if (ec) {
    error = "cannot move " + name + " to " + to.string() + ": " + ec.message();
    return "";
  }
  return to.string();
}

connector_kind bank_statement_connector_kind() {
  connector_kind k;
  k.name = "bank_statement";
  k.label = "Bank statements (camt.053, MT940)";
  k.description =
      "Bank statements as files: ISO 20022 camt.053 or SWIFT MT940 from a drop folder (each file "
      "moves to processed/ or rejected/) or one file at an HTTPS URL: bank_transaction and "
      "balance records.";
  k.default_base_url = "file:///";
  setting_spec folder;
  folder.key = "folder";
  folder.help =
      "the drop folder (an absolute path) statements arrive in; read files move to processed/, "
      "malformed ones to rejected/. Without it, base_url + file_name is fetched";
  setting_spec file;
  file.key = "file_name";
  file.help = "without a folder: the statement file at the HTTPS base URL (base_url/file_name)";
  setting_spec format;
  format.key = "format";
  format.type = setting_type::enumeration;
  format.allowed = {"auto", "camt053", "mt940"};
  format.default_value = "auto";
  format.help = "the files' format: auto (XML is camt.053, anything else MT940), camt053 or mt940";
  k.settings = {folder, file, format};
  k.streams = {{"statements",
                "bank_transaction",
                "statement entries (bank_transaction) and balances (balance)",
                {"balance"}}};
  k.default_streams = bank_statement_streams;
  k.make = [](const integration_config& c) -> std::unique_ptr<connector> {
    return std::make_unique<bank_statement_connector>(c);
  };
  k.check = [](const json& settings) -> std::string {
    auto folder = settings.value("folder", ""), file = settings.value("file_name", "");
    if (folder.empty() && file.empty())
      return "settings.folder (a drop folder) or settings.file_name (a file at the base URL) is "
             "required for bank_statement";
    if (!folder.empty() && !file.empty())
      return "settings.folder and settings.file_name do not go together: give one";
    if (!folder.empty() && folder[0] != '/')
      return "settings.folder must be an absolute path, got " + model::quote_text(folder, 60);
    if (file.find_first_of("/?#") != std::string::npos || file == "." || file == "..")
      return "settings.file_name must be a file name, got " + model::quote_text(file, 60);
    return "";
  };
  return k;
}

}  // namespace ledgersync
