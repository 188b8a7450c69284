#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace ledgersync {

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  // Shortest text that reads back as the same double: 0.1 stays "0.1".
  for (int precision = 6; precision <= 17; ++precision) {
    std::ostringstream s;
    s.precision(precision);
    s << v;
    if (std::stod(s.str()) == v) return s.str();
  }
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

std::string metrics::escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string metrics::format_labels(const labels& l) {
  if (l.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < l.size(); ++i)
    out += (i ? "," : "") + l[i].first + "=\"" + escape_label(l[i].second) + "\"";
  return out + "}";
}

void metrics::count(const std::string& name, const std::string& help, const labels& l,
                    uint64_t by) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& f = families_[name];
  f.help = help;
  f.type = "counter";
  f.values[format_labels(l)] += static_cast<double>(by);
}

void metrics::set_gauge(const std::string& name, const std::string& help, const labels& l,
                        double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& f = families_[name];
  f.help = help;
  f.type = "gauge";
  f.values[format_labels(l)] = value;
}

void metrics::observe(const std::string& name, const std::string& help,
                      const std::vector<double>& bounds, double value, const labels& l) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& f = families_[name];
  f.help = help;
  f.type = "histogram";
  auto& h = f.histograms[format_labels(l)];
  if (h.bounds.empty()) {
    h.bounds = bounds;
    h.buckets.assign(bounds.size(), 0);
  }
  auto it = std::lower_bound(h.bounds.begin(), h.bounds.end(), value);
  if (it != h.bounds.end()) ++h.buckets[static_cast<size_t>(it - h.bounds.begin())];
  h.sum += value;
  ++h.count;
}

std::string metrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (auto& [name, f] : families_) {
    auto full = "ledgersync_" + name;
    out += "# HELP " + full + " " + f.help + "\n# TYPE " + full + " " + f.type + "\n";
    for (auto& [l, v] : f.values) out += full + l + " " + number(v) + "\n";
    for (auto& [l, h] : f.histograms) {
      // `le` joins the family's own labels inside the braces.
      auto with_le = [&](const std::string& le) {
        return l.empty() ? "{le=\"" + le + "\"}"
                         : l.substr(0, l.size() - 1) + ",le=\"" + le + "\"}";
      };
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.buckets[i];
        out += full + "_bucket" + with_le(number(h.bounds[i])) + " " + std::to_string(cumulative) +
               "\n";
      }
      out += full + "_bucket" + with_le("+Inf") + " " + std::to_string(h.count) + "\n";
      out += full + "_sum" + l + " " + number(h.sum) + "\n";
      out += full + "_count" + l + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

metrics& metrics::instance() {
  static metrics m;
  return m;
}

}  // namespace ledgersync
