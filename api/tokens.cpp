#include "api/tokens.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/hex.hpp"
#include "core/private_file.hpp"

namespace ledgersync::api {

using json = nlohmann::json;

namespace {

std::string sha256(std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::optional<std::string> unhex(const std::string& text) {
  if (text.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto v = [](char c) {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    int hi = v(text[i]), lo = v(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (unsigned char c : n)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

std::optional<role> role_from_name(std::string_view name) {
  if (name == "viewer") return role::viewer;
  if (name == "admin") return role::admin;
  return std::nullopt;
}

token_store::token_store(std::string path) : file_(std::move(path)) {}

bool token_store::refresh(std::string& error) {
  std::string text;
  switch (file_.poll(text, error)) {
    case watched_file::state::unreadable:
      return false;
    case watched_file::state::unchanged:
      error = load_error_;
      return load_error_.empty();
    case watched_file::state::absent:  // no file yet: no tokens
      tokens_.clear();
      load_error_.clear();
      return true;
    case watched_file::state::changed:
      break;
  }
  tokens_.clear();
  load_error_.clear();
  auto j = json::parse(text, nullptr, false);
  auto fail = [&](const std::string& why) {
    tokens_.clear();
    load_error_ = "the token file " + file_.path() + " is damaged (" + why +
                  "); no token is accepted until it is fixed or removed";
    error = load_error_;
    return false;
  };
  if (!j.is_object() || !j.value("tokens", json()).is_array()) return fail("not a token list");
  for (auto& t : j["tokens"]) {
    if (!t.is_object()) return fail("an entry is not an object");
    entry e;
    e.info.id = t.value("id", "");
    e.info.name = t.value("name", "");
    e.info.created_at = t.value("created_at", "");
    auto r = role_from_name(t.value("role", ""));
    auto h = unhex(t.value("sha256", ""));
    if (!r || !h || h->size() != 32 || e.info.id.empty())
      return fail("entry '" + e.info.name + "' lacks a role, id or hash");
    e.info.role = *r;
    e.sha256 = *h;
    tokens_.push_back(std::move(e));
  }
  return true;
}

std::optional<file_lock> token_store::lock_and_read(std::string& error) {
  auto held = file_lock::take(file_.path(), error);
  if (!held) return std::nullopt;
  file_.forget();  // under the lock, what the file holds now, whatever its stamp says
  if (!refresh(error)) return std::nullopt;
  return held;
}

bool token_store::save(const std::vector<entry>& tokens, std::string& error) {
  json list = json::array();
  for (auto& t : tokens)
    list.push_back({{"id", t.info.id},
                    {"name", t.info.name},
                    {"role", role_name(t.info.role)},
                    {"sha256", hex(t.sha256)},
                    {"created_at", t.info.created_at}});
  auto text = json{{"tokens", list}}.dump(2) + "\n";
  return write_private_file(file_.path(), text, error);
}

std::optional<created_token> token_store::create(std::string_view role_text, std::string name,
                                                 std::string& error) {
  auto r = role_from_name(role_text);
  if (!r) {
    error = "unknown role '" + std::string(role_text) + "': a token is either viewer or admin";
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  auto other_writers = lock_and_read(error);
  if (!other_writers) return std::nullopt;
  created_token out;
  out.info.id = random_hex(4);
  out.info.name = name.empty() ? "token-" + out.info.id : std::move(name);
  out.info.role = *r;
  out.info.created_at = now_iso();
  if (!valid_name(out.info.name)) {
    error = "token name '" + out.info.name +
            "' is not allowed: use 1 to 64 letters, digits, '-', '_' or '.'";
    return std::nullopt;
  }
  for (auto& t : tokens_)
    if (t.info.name == out.info.name) {
      error = "a token named '" + out.info.name + "' exists already: pick another name";
      return std::nullopt;
    }
  out.secret = "lst_" + random_hex(32);
  auto next = tokens_;
  next.push_back({out.info, sha256(out.secret)});
  if (!save(next, error)) return std::nullopt;
  return out;
}

std::optional<std::vector<token_info>> token_store::list(std::string& error) {
  std::lock_guard lock(mu_);
  if (!refresh(error)) return std::nullopt;
  std::vector<token_info> out;
  for (auto& t : tokens_) out.push_back(t.info);
  return out;
}

bool token_store::revoke(const std::string& id_or_name, std::string& error) {
  std::lock_guard lock(mu_);
  auto other_writers = lock_and_read(error);
  if (!other_writers) return false;
  auto next = tokens_;
  auto gone = std::erase_if(
      next, [&](const entry& e) { return e.info.id == id_or_name || e.info.name == id_or_name; });
  if (gone == 0) {
    error = "no token with id or name '" + id_or_name + "'";
    return false;
  }
  return save(next, error);
}

std::optional<principal> token_store::verify(std::string_view bearer) {
  auto digest = sha256(bearer);
  std::lock_guard lock(mu_);
  std::string ignored;
  if (!refresh(ignored)) return std::nullopt;
  const entry* hit = nullptr;
  for (auto& t : tokens_)
    if (CRYPTO_memcmp(t.sha256.data(), digest.data(), digest.size()) == 0) hit = &t;
  if (!hit) return std::nullopt;
  return principal{hit->info.name, hit->info.role};
}

}  // namespace ledgersync::api
