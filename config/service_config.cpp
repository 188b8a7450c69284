#include "config/service_config.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace ledgersync {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool expand(const std::string& in, std::string& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size() || in[i + 1] != '{') {
      out += in[i];
      continue;
    }
    auto close = in.find('}', i + 2);
    if (close == std::string::npos) {
      error = "an unclosed ${ in '" + in + "'";
      return false;
    }
    auto name = in.substr(i + 2, close - i - 2);
    const char* value = std::getenv(name.c_str());
    if (!value) {
      error = "${" + name + "} is not set in the environment";
      return false;
    }
    out += value;
    i = close;
  }
  return true;
}

bool whole(const std::string& v, size_t max, size_t& out) {
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoul(v);
  return out <= max;
}

}  // namespace

bool parse_service_config(const std::string& text, const std::string& origin, service_config& out,
                          std::string& error) {
  using setter = std::function<bool(const std::string&, std::string&)>;
  auto text_of = [](std::string& field) {
    return setter([&field](const std::string& v, std::string&) {
      field = v;
      return true;
    });
  };
  auto count_of = [](size_t& field, size_t max) {
    return setter([&field, max](const std::string& v, std::string& why) {
      if (whole(v, max, field)) return true;
      why = "expected a whole number from 0 to " + std::to_string(max);
      return false;
    });
  };
  std::map<std::string, setter> keys = {
      {"data_dir", text_of(out.data_dir)},
      {"listen", text_of(out.listen)},
      {"http_listen", text_of(out.http_listen)},
      {"http_tls_cert", text_of(out.http_tls_cert)},
      {"http_tls_key", text_of(out.http_tls_key)},
      {"secrets_key_file", text_of(out.secrets_key_file)},
      {"log_level", text_of(out.log.level)},
      {"log_format", text_of(out.log.format)},
      {"log_file", text_of(out.log.file)},
      {"log_max_size_mb", count_of(out.log.max_size_mb, 1024 * 1024)},
      {"log_max_files", count_of(out.log.max_files, 1000)},
  };
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto where = origin + ":" + std::to_string(n) + ": ";
    auto content = trim(line);
    if (content.empty() || content[0] == '#') continue;
    auto eq = content.find('=');
    if (eq == std::string::npos) {
      error = where + "expected `key = value`, got '" + content + "'";
      return false;
    }
    auto key = trim(content.substr(0, eq));
    auto raw = trim(content.substr(eq + 1));
    auto it = keys.find(key);
    if (it == keys.end()) {
      std::string known;
      for (auto& [k, _] : keys) known += (known.empty() ? "" : ", ") + k;
      error = where + "unknown key '" + key + "' (the keys are: " + known + ")";
      return false;
    }
    if (!seen.insert(key).second) {
      error = where + key + " is set twice";
      return false;
    }
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"')
      raw = raw.substr(1, raw.size() - 2);
    else if (auto hash = raw.find(" #"); hash != std::string::npos)
      raw = trim(raw.substr(0, hash));  // a comment after an unquoted value
    std::string value, why;
    if (!expand(raw, value, why) || !it->second(value, why)) {
      error = where + key + ": " + why;
      return false;
    }
  }
  if (auto bad = validate(out.log)) {
    error = origin + ": " + *bad;
    return false;
  }
  if (out.http_tls_cert.empty() != out.http_tls_key.empty()) {
    error = origin + ": http_tls_cert and http_tls_key go together";
    return false;
  }
  return true;
}

bool load_service_config(const std::string& path, service_config& out, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = "cannot read the config file " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_service_config(ss.str(), path, out, error);
}

}  // namespace ledgersync
