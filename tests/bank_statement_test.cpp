// The bank_statement connector on a real drop folder (a temporary directory) with the fixtures'
// statements: camt.053 .001.02 and .001.08 and MT940 one file a page, the move to processed/
// only once committed, a malformed file to rejected/ with its parse error and no records, a
// statement delivered twice giving the same records, the HTTPS single-file mode and settings.
#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/integration_config.hpp"
#include "connectors/bank_statement_connector.hpp"
#include "connectors/connector.hpp"
#include "sandbox/vendor_bank.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct drop_folder {
  fs::path dir;
  integration_config cfg;
  std::unique_ptr<connector> conn;

  drop_folder() {
    dir = fs::temp_directory_path() /
          ("ledgersync-bank-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::remove_all(dir);
    fs::create_directories(dir);
    cfg.name = "bank";
    cfg.connector = "bank_statement";
    cfg.base_url = "file:///";
    cfg.settings = {{"folder", dir.string()}};
    cfg.streams = find_connector_kind("bank_statement")->default_streams();
    conn = make_connector(cfg);
  }
  ~drop_folder() { fs::remove_all(dir); }

  void drop(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  }

  // Serves a request as the transport does for file:// URLs: the URL's decoded path.
  http_response serve(const http_request& req) {
    REQUIRE(req.allow_file);
    REQUIRE(req.url.rfind("file://", 0) == 0);
    http_response r;
    auto u = boost::urls::parse_uri(req.url);
    if (!u) {
      r.status = 404;
      return r;
    }
    std::ifstream in(std::string(u->path()), std::ios::binary);
    if (!in) {
      r.status = 404;
      return r;
    }
    r.status = 200;
    r.body.assign(std::istreambuf_iterator<char>(in), {});
    return r;
  }

  // One pass as the engine runs it, committing each page before the next (the hook then).
  std::vector<page_result> pass(bool commit = true) {
    auto& s = cfg.streams[0];
    auto c = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
    std::vector<page_result> pages;
    do {
      auto p = conn->parse_page(s, c, serve(conn->page_request(s, c)));
      REQUIRE(p.error.ok());
      c = cursor_after(*conn, s, c, p);
      if (commit) conn->committed(s, c.state);
      pages.push_back(std::move(p));
      REQUIRE(pages.size() < 20);
    } while (c.in_pass);
    return pages;
  }

  std::vector<std::string> files(const std::string& sub = "") {
    std::vector<std::string> out;
    if (!fs::exists(dir / sub)) return out;
    for (auto& e : fs::directory_iterator(dir / sub))
      if (e.is_regular_file()) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

size_t count_entity(const page_result& p, const std::string& entity) {
  size_t n = 0;
  for (auto& w : p.records) n += json::parse(w.body)["entity"] == entity;
  return n;
}

}  // namespace

TEST_CASE("bank_statement is registered with its settings", "[bank_statement]") {
  auto* k = find_connector_kind("bank_statement");
  REQUIRE(k);
  CHECK(k->label == "Bank statements (camt.053, MT940)");
  CHECK(k->setting("format")->allowed == std::vector<std::string>{"auto", "camt053", "mt940"});
  auto refused = [&](json s) { return validate_settings(*k, s); };
  CHECK(refused(json::object()).rfind("settings.folder (a drop folder) or settings.file_name", 0) ==
        0);
  CHECK(refused({{"folder", "drop"}}) == "settings.folder must be an absolute path, got \"drop\"");
  CHECK(refused({{"folder", "/d"}, {"file_name", "a.xml"}})
            .rfind("settings.folder and settings.file_name do not go together", 0) == 0);
  CHECK(refused({{"file_name", "../x"}}) == "settings.file_name must be a file name, got \"../x\"");
  CHECK(refused({{"folder", "/d"}, {"format", "bai2"}}) ==
        "settings.format must be one of auto, camt053, mt940, got \"bai2\"");
  CHECK(refused({{"folder", "/d"}, {"format", "mt940"}}) == "");
}

TEST_CASE("a drop folder: each format a page, moved to processed/ once committed",
          "[bank_statement]") {
  drop_folder f;
  f.drop("a-camt02.xml", read_fixture("camt053/statement-001.02.xml"));
  f.drop("b-camt08.xml", read_fixture("camt053/statement-001.08.xml"));
  f.drop("c-mt940.sta", read_fixture("mt940/statement.sta"));
  f.drop(".d-partial.xml", "<Doc");  // an upload under way
  auto pages = f.pass();
  REQUIRE(pages.size() == 4);  // three files, then the page that finds none
  CHECK(pages[0].records.size() == 4);
  CHECK(count_entity(pages[0], "balance") == 2);
  CHECK(pages[1].records.size() == 4);
  CHECK(pages[2].records.size() == 6);
  CHECK(count_entity(pages[2], "bank_transaction") == 3);
  CHECK(pages[3].records.empty());
  CHECK_FALSE(pages[3].has_more);
  for (auto& p : pages) CHECK(p.rejected.empty());

  auto entry = json::parse(pages[0].records.back().body);
  CHECK(entry["entity"] == "bank_transaction");
  CHECK(pages[0].records.back().updated_at ==
        entry["fields"]["booking_date"].get<std::string>() + "T00:00:00Z");
  // A debit is negative.
  bool debit = false;
  for (auto& w : pages[2].records) {
    auto j = json::parse(w.body);
    if (j["entity"] == "bank_transaction" && j["fields"]["amount"] == "-312.45") debit = true;
  }
  CHECK(debit);

  CHECK(f.files() == std::vector<std::string>{".d-partial.xml"});
  CHECK(f.files("processed") ==
        std::vector<std::string>{"a-camt02.xml", "b-camt08.xml", "c-mt940.sta"});
}

TEST_CASE("a file name is the sender's: spaces, '#', '%' and '%2F..' name that file only",
          "[bank_statement]") {
  drop_folder f;
  f.drop("Statement 1 #a %.sta", read_fixture("mt940/statement.sta"));
  f.drop("a%2F..%2F..%2Fc.sta", read_fixture("mt940/statement.sta"));
  auto pages = f.pass();
  REQUIRE(pages.size() == 3);
  CHECK(pages[0].records.size() == 6);
  CHECK(pages[1].records.size() == 6);
  CHECK(f.files().empty());
  CHECK(f.files("processed") ==
        std::vector<std::string>{"Statement 1 #a %.sta", "a%2F..%2F..%2Fc.sta"});
}

TEST_CASE("a file over the size limit is set aside in rejected/, not a stop for the folder",
          "[bank_statement]") {
  drop_folder f;
  f.drop("a-big.sta", read_fixture("mt940/statement.sta"));
  f.drop("b-ok.sta", read_fixture("mt940/statement.sta"));
  auto& s = f.cfg.streams[0];
  auto c = cursor_for_pass(*f.conn, s, stream_cursor{}, false, "");
  auto req = f.conn->page_request(s, c);
  http_response too_big;  // what the HTTP client answers past max_body_bytes
  too_big.error = make_error_info(error_category::upstream, "a-big.sta is larger than the limit");
  too_big.error.permanent = true;
  auto p = f.conn->parse_page(s, c, too_big);
  REQUIRE(p.error.ok());
  REQUIRE(p.rejected.size() == 1);
  CHECK(p.rejected[0].rfind("a-big.sta moved to rejected/: ", 0) == 0);
  c = cursor_after(*f.conn, s, c, p);
  f.conn->committed(s, c.state);
  CHECK(f.files("rejected") == std::vector<std::string>{"a-big.sta"});
  // The pass goes on to the next file.
  auto next = f.conn->parse_page(s, c, f.serve(f.conn->page_request(s, c)));
  CHECK(next.records.size() == 6);
}

TEST_CASE("a file is not moved before its page is committed; the hook may repeat",
          "[bank_statement]") {
  drop_folder f;
  f.drop("a.xml", read_fixture("camt053/statement-001.02.xml"));
  f.drop("b.sta", read_fixture("mt940/statement.sta"));
  auto& s = f.cfg.streams[0];
  auto c = cursor_for_pass(*f.conn, s, stream_cursor{}, false, "");
  auto p = f.conn->parse_page(s, c, f.serve(f.conn->page_request(s, c)));
  auto after_a = cursor_after(*f.conn, s, c, p);
  // The engine fetches the next page before the first is committed: it is b, not a again.
  auto req = f.conn->page_request(s, after_a);
  CHECK(req.url == "file://" + (f.dir / "b.sta").string());
  f.conn->parse_page(s, after_a, f.serve(req));
  CHECK(f.files() == std::vector<std::string>{"a.xml", "b.sta"});
  f.conn->committed(s, after_a.state);
  f.conn->committed(s, after_a.state);  // after a crash, again: harmless
  CHECK(f.files() == std::vector<std::string>{"b.sta"});
  CHECK(f.files("processed") == std::vector<std::string>{"a.xml"});
}

TEST_CASE("a statement delivered twice gives the same records; a malformed file is rejected",
          "[bank_statement]") {
  drop_folder f;
  auto camt = read_fixture("camt053/statement-001.02.xml");
  f.drop("stmt.xml", camt);
  auto first = f.pass();
  f.drop("stmt.xml", camt);  // the bank sends it again, same name
  f.drop("zz-broken.xml", camt.substr(0, camt.size() / 2));
  auto again = f.pass();
  REQUIRE(again.size() == 3);
  REQUIRE(again[0].records.size() == first[0].records.size());
  for (size_t i = 0; i < first[0].records.size(); ++i) {
    CHECK(again[0].records[i].id == first[0].records[i].id);
    CHECK(again[0].records[i].body == first[0].records[i].body);
    CHECK(again[0].records[i].updated_at == first[0].records[i].updated_at);
  }
  CHECK(f.files("processed") == std::vector<std::string>{"stmt.2.xml", "stmt.xml"});

  auto& bad = again[1];
  CHECK(bad.records.empty());
  CHECK(bad.invalid.empty());
  REQUIRE(bad.rejected.size() == 1);
  CHECK(bad.rejected[0].rfind("zz-broken.xml moved to rejected/: camt.053: ", 0) == 0);
  CHECK(f.files("rejected") == std::vector<std::string>{"zz-broken.xml"});
  CHECK(f.files().empty());

  // MT940 forced on an XML file: refused whole as well.
  drop_folder g;
  g.cfg.settings["format"] = "mt940";
  g.conn = make_connector(g.cfg);
  g.drop("x.xml", camt);
  auto pages = g.pass();
  REQUIRE(pages[0].rejected.size() == 1);
  CHECK(pages[0].rejected[0].rfind("x.xml moved to rejected/: MT940: ", 0) == 0);
}

TEST_CASE("an empty or missing drop folder; the probe", "[bank_statement]") {
  drop_folder f;
  auto pages = f.pass();
  REQUIRE(pages.size() == 1);
  CHECK(pages[0].records.empty());
  auto probe = f.conn->probe_request(f.cfg.streams[0]);
  CHECK(f.serve(probe).status == 200);

  fs::remove_all(f.dir);
  auto& s = f.cfg.streams[0];
  auto c = cursor_for_pass(*f.conn, s, stream_cursor{}, false, "");
  auto p = f.conn->parse_page(s, c, f.serve(f.conn->page_request(s, c)));
  CHECK(p.error.category == error_category::config);
  CHECK(p.error.message.find("the drop folder " + f.dir.string() + " cannot be read") !=
        std::string::npos);
}

TEST_CASE("one statement at an HTTPS URL", "[bank_statement]") {
  integration_config cfg;
  cfg.name = "bank";
  cfg.connector = "bank_statement";
  cfg.base_url = "https://bank.example/statements/";
  cfg.api_key = "tok";
  cfg.settings = {{"file_name", "today.sta"}};
  cfg.streams = find_connector_kind("bank_statement")->default_streams();
  auto conn = make_connector(cfg);
  auto& s = cfg.streams[0];
  auto c = cursor_for_pass(*conn, s, stream_cursor{}, false, "");
  auto req = conn->page_request(s, c);
  CHECK(req.url == "https://bank.example/statements/today.sta");
  CHECK_FALSE(req.allow_file);
  CHECK(req.allowed_origin == "https://bank.example:443");
  http_response r;
  r.status = 200;
  r.body = read_fixture("mt940/statement.sta");
  auto p = conn->parse_page(s, c, r);
  REQUIRE(p.error.ok());
  CHECK(p.records.size() == 6);
  CHECK_FALSE(p.has_more);
  r.body = ":20:X\n:25:Y\n:61:garbage\n";
  CHECK(conn->parse_page(s, c, r).error.category == error_category::upstream);
}

TEST_CASE("the sandbox's statement files import; the same one twice adds nothing new",
          "[bank_statement][sandbox]") {
  drop_folder f;
  std::string error;
  for (auto format : {"camt053", "mt940", "malformed"})
    CHECK_FALSE(sandbox::write_statement(f.dir.string(), format, 7, 3, error).empty());
  CHECK(sandbox::write_statement(f.dir.string(), "bai2", 7, 3, error).empty());
  CHECK(error == "format must be camt053, mt940 or malformed");
  CHECK(f.files() == std::vector<std::string>{"stmt-3-broken.xml", "stmt-3.sta", "stmt-3.xml"});
  auto pages = f.pass();
  REQUIRE(pages.size() == 4);
  CHECK(pages[0].rejected.size() == 1);  // stmt-3-broken.xml
  CHECK(pages[1].records.size() == 5);   // MT940: opening, three lines, closing
  CHECK(pages[2].records.size() == 5);   // camt.053 likewise
  CHECK(count_entity(pages[2], "bank_transaction") == 3);
  CHECK(f.files("rejected") == std::vector<std::string>{"stmt-3-broken.xml"});
  CHECK(sandbox::camt053_statement(7, 3) == sandbox::camt053_statement(7, 3));
  CHECK(sandbox::camt053_statement(7, 3) != sandbox::camt053_statement(7, 4));
}
