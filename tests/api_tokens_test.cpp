// Bearer tokens: shown once, stored hashed in a 0600 file, seen by other processes' edits.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "api/tokens.hpp"

using namespace ledgersync::api;
namespace fs = std::filesystem;

namespace {
struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/api-tokens-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("a created token verifies with its role, and only its hash is written down") {
  temp_dir d;
  auto file = (d.path / "tokens.json").string();
  token_store store(file);
  std::string err;
  auto admin = store.create("admin", "ops-team", err);
  REQUIRE(admin);
  auto viewer = store.create("viewer", "", err);
  REQUIRE(viewer);
  CHECK(viewer->info.name == "token-" + viewer->info.id);
  CHECK(admin->secret.rfind("lst_", 0) == 0);

  auto p = store.verify(admin->secret);
  REQUIRE(p);
  CHECK(p->token_name == "ops-team");
  CHECK(p->role == role::admin);
  CHECK(store.verify(viewer->secret)->role == role::viewer);
  CHECK_FALSE(store.verify(admin->secret + "x"));
  CHECK_FALSE(store.verify(""));

  auto text = slurp(file);
  CHECK(text.find(admin->secret) == std::string::npos);
  CHECK(text.find(admin->secret.substr(4, 16)) == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto all = store.list(err);
  REQUIRE(all);
  CHECK(all->size() == 2);
  std::set<std::string> files;
  for (auto& f : fs::directory_iterator(d.path)) files.insert(f.path().filename().string());
  // The temporary file was renamed over it, none is left behind; beside it, the writers' lock.
  CHECK(files == std::set<std::string>{"tokens.json", "tokens.json.lock"});
}

TEST_CASE("bad roles, bad names and taken names are refused with a reason") {
  temp_dir d;
  token_store store((d.path / "tokens.json").string());
  std::string err;
  CHECK_FALSE(store.create("owner", "x", err));
  CHECK(err == "unknown role 'owner': a token is either viewer or admin");
  REQUIRE(store.create("viewer", "alice", err));
  CHECK_FALSE(store.create("admin", "alice", err));
  CHECK(err.find("exists already") != std::string::npos);
  CHECK_FALSE(store.create("admin", "has space", err));
  CHECK(err.find("not allowed") != std::string::npos);
  CHECK_FALSE(store.revoke("bob", err));
  CHECK(err == "no token with id or name 'bob'");
}

TEST_CASE("revoking by name or id stops the token at once") {
  temp_dir d;
  token_store store((d.path / "tokens.json").string());
  std::string err;
  auto a = store.create("admin", "a", err);
  auto b = store.create("admin", "b", err);
  REQUIRE((a && b));
  REQUIRE(store.revoke("a", err));
  REQUIRE(store.revoke(b->info.id, err));
  CHECK_FALSE(store.verify(a->secret));
  CHECK_FALSE(store.verify(b->secret));
  CHECK(store.list(err)->empty());
}

TEST_CASE("a token another process writes to the file is accepted without a restart") {
  temp_dir d;
  auto file = (d.path / "tokens.json").string();
  token_store service(file);
  std::string err;
  CHECK(service.list(err)->empty());  // reads the (absent) file now
  token_store cli(file);
  auto t = cli.create("viewer", "cli-made", err);
  REQUIRE(t);
  CHECK(service.verify(t->secret));
  REQUIRE(cli.revoke("cli-made", err));
  CHECK_FALSE(service.verify(t->secret));
}

TEST_CASE("tokens created at the same time by several processes are all kept") {
  // Each store stands for a process of its own (`ledgersync token create` run by a script in
  // parallel): its own view of the file, no shared mutex. Each read-modify-write is exclusive.
  temp_dir d;
  auto file = (d.path / "tokens.json").string();
  constexpr int writers = 8, each = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      token_store own(file);
      std::string err;
      for (int i = 0; i < each; ++i)
        if (!own.create("viewer", "w" + std::to_string(w) + "-" + std::to_string(i), err)) ++failed;
    });
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  token_store reader(file);
  std::string err;
  auto all = reader.list(err);
  REQUIRE(all);
  CHECK(all->size() == writers * each);
}

TEST_CASE("a damaged token file accepts nobody and says why") {
  temp_dir d;
  auto file = d.path / "tokens.json";
  std::ofstream(file) << "{not json";
  token_store store(file.string());
  std::string err;
  CHECK_FALSE(store.list(err));
  CHECK(err.find("damaged") != std::string::npos);
  CHECK_FALSE(store.verify("lst_anything"));
}
