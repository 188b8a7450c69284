// Where the time of a sync goes, stage by stage, on the real code (no actors, one thread):
//   fetch   pages from the sandbox upstream over loopback HTTP (our Beast client)
//   parse   pages into records with the rest connector (simdjson)
//   commit  the parsed pages into LMDB, one durable transaction per page, then the same pages
//           again (all unchanged: the content-hash path), then in groups of 4 pages
//   chain   fetch -> parse -> commit, one page after another, as one integration would
// Usage: bench_sync [--records N] [--page N] [--dir DIR] [--stage all|fetch|store]; prints one
// line per stage. `--stage fetch` times only the fetch (+parse) and `--stage store` only the
// first commit (1 page/txn, the pages fetched untimed first), so bench/run can interleave the two
// limits with the service's own sync in one run.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "config/integration_config.hpp"
#include "connectors/connector.hpp"
#include "connectors/http_client.hpp"
#include "sandbox/sandbox_server.hpp"
#include "storage/storage.hpp"

using namespace ledgersync;
using clk = std::chrono::steady_clock;

namespace {

double seconds_since(clk::time_point t) {
  return std::chrono::duration<double>(clk::now() - t).count();
}

void report(const char* stage, size_t records, size_t bytes, double s) {
  std::printf("%-28s %8zu records %8.1f MB %7.3f s %10.0f records/s %8.1f MB/s\n", stage, records,
              bytes / 1e6, s, records / s, bytes / 1e6 / s);
}

struct page {
  http_response response;
  page_result parsed;
  stream_cursor after;  // where the stream stands once this page is committed
};

http_response fetch_sync(http_transport& t, http_request req) {
  std::promise<http_response> p;
  auto f = p.get_future();
  t.fetch(std::move(req), [&p](http_response r) { p.set_value(std::move(r)); });
  return f.get();
}

// A page's records and the cursor that follows them, as the integration actor writes them.
write_batch batch_of(const page_result& pr, const stream_config& s, const stream_cursor& after) {
  write_batch b;
  b.integration = "bench";
  b.at_ms = 1;
  b.records = pr.records;
  b.cursors[s.name] = after.to_json();
  return b;
}

// An empty store in `dir` (whatever was there is removed); exits when it cannot be opened.
std::unique_ptr<storage> fresh_store(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string err;
  auto store = open_lmdb_storage(dir, err);
  if (!store) {
    std::fprintf(stderr, "storage: %s\n", err.c_str());
    std::exit(1);
  }
  return store;
}

}  // namespace

int main(int argc, char** argv) {
  size_t records = 100000, page_size = 500;
  std::string dir = "/tmp/ledgersync-bench", stage = "all";
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: bench_sync [--records N] [--page N] [--dir DIR] "
                 "[--stage all|fetch|store]\n");
    return 2;
  };
  auto number = [](const char* text, size_t& out) {
    auto end = text + std::strlen(text);
    auto [p, ec] = std::from_chars(text, end, out);
    return ec == std::errc() && p == end && out > 0;
  };
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 == argc) return usage();
    if (!std::strcmp(argv[i], "--records")) {
      if (!number(argv[i + 1], records)) return usage();
    } else if (!std::strcmp(argv[i], "--page")) {
      if (!number(argv[i + 1], page_size)) return usage();
    } else if (!std::strcmp(argv[i], "--dir")) {
      dir = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--stage")) {
      stage = argv[i + 1];
      if (stage != "all" && stage != "fetch" && stage != "store") return usage();
    } else {
      return usage();
    }
  }

  sandbox::server_options so;
  so.records = records;
  so.seed = 7;
  so.max_page = std::max<size_t>(page_size, 1000);
  sandbox::server upstream(so);
  std::string err;
  auto port = upstream.start(err);
  if (!port) {
    std::fprintf(stderr, "sandbox: %s\n", err.c_str());
    return 1;
  }

  integration_config cfg;
  cfg.name = "bench";
  cfg.base_url = "http://127.0.0.1:" + std::to_string(port);
  cfg.api_key = so.api_key;
  cfg.streams = default_rest_streams();
  auto& stream = cfg.streams.front();  // customers
  stream.page_size = page_size;
  auto conn = make_connector(cfg);
  io_runtime io(1);
  auto transport = io.make_transport();

  // fetch
  std::vector<page> pages;
  size_t bytes = 0;
  stream_cursor cur;
  auto t0 = clk::now();
  for (;;) {
    page p;
    p.response = fetch_sync(*transport, conn->page_request(stream, cur));
    if (p.response.status != 200) {
      std::fprintf(stderr, "fetch failed: HTTP %d %s\n", p.response.status,
                   p.response.error.message.c_str());
      return 1;
    }
    bytes += p.response.body.size();
    // Advancing the cursor needs the parse; it is timed again on its own below.
    p.parsed = conn->parse_page(stream, cur, p.response);
    cur = p.after = cursor_after(*conn, stream, cur, p.parsed);
    bool more = p.parsed.has_more;
    pages.push_back(std::move(p));
    if (!more) break;
  }
  if (stage != "store") report("fetch (+parse) over loopback", records, bytes, seconds_since(t0));
  auto finish = [&] {
    std::filesystem::remove_all(dir);
    upstream.stop();
    io.stop();
    return 0;
  };
  if (stage == "fetch") return finish();

  if (stage == "all") {  // parse
    t0 = clk::now();
    size_t parsed = 0;
    stream_cursor c2;
    for (auto& p : pages) {
      auto r = conn->parse_page(stream, c2, p.response);
      parsed += r.records.size();
      c2 = cursor_after(*conn, stream, c2, r);
    }
    report("parse (simdjson)", parsed, bytes, seconds_since(t0));
  }

  // commit
  auto store = fresh_store(dir);
  auto commit_all = [&](const char* stage, size_t group) {
    auto t = clk::now();
    size_t n = 0;
    for (size_t i = 0; i < pages.size(); i += group) {
      std::vector<write_batch> batches;
      for (size_t j = i; j < std::min(pages.size(), i + group); ++j) {
        batches.push_back(batch_of(pages[j].parsed, stream, pages[j].after));
        n += pages[j].parsed.records.size();
      }
      std::vector<const write_batch*> ptrs;
      for (auto& b : batches) ptrs.push_back(&b);
      std::vector<batch_result> res;
      auto e = store->apply_group(ptrs, res);
      if (!e.ok()) {
        std::fprintf(stderr, "commit: %s\n", e.message.c_str());
        std::exit(1);
      }
    }
    report(stage, n, bytes, seconds_since(t));
  };
  commit_all("commit new, 1 page/txn", 1);
  if (stage == "store") {
    store.reset();
    return finish();
  }
  commit_all("commit unchanged, 1 page/txn", 1);
  store.reset();  // one LMDB environment per directory per process: close before reopening
  store = fresh_store(dir);
  commit_all("commit new, 4 pages/txn", 4);

  // chain: what one integration does, without the overlap the actor adds (write window 2)
  store.reset();
  store = fresh_store(dir);
  stream_cursor c3;
  t0 = clk::now();
  size_t chained = 0;
  for (;;) {
    auto resp = fetch_sync(*transport, conn->page_request(stream, c3));
    auto r = conn->parse_page(stream, c3, resp);
    c3 = cursor_after(*conn, stream, c3, r);
    batch_result br;
    auto e = store->apply(batch_of(r, stream, c3), br);
    if (!e.ok()) return 1;
    chained += r.records.size();
    if (!r.has_more) break;
  }
  report("chain fetch+parse+commit", chained, bytes, seconds_since(t0));
  store.reset();
  return finish();
}
