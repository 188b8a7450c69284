// The service's counters and histograms, exposed at /metrics in Prometheus's text format.
// Plain and thread-safe: actors bump them from any thread (an atomic add, or a short lock for a
// new label set); the scrape renders them. Gauges that describe state (an integration's status,
// its last success) are not kept here: the scrape reads them from the status documents, so they
// can never drift from what `ledgersync list` says.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ledgersync {

class metrics {
 public:
  using labels = std::vector<std::pair<std::string, std::string>>;

  // `name` without the ledgersync_ prefix; `help` one line.
  void count(const std::string& name, const std::string& help, const labels& l, uint64_t by = 1);
  // Observes `value` into a histogram with the given upper bounds (ascending).
  void observe(const std::string& name, const std::string& help, const std::vector<double>& bounds,
               double value, const labels& l = {});
  void set_gauge(const std::string& name, const std::string& help, const labels& l, double value);

  // Everything in the exposition format (text/plain; version=0.0.4), families sorted by name.
  std::string render() const;

  static metrics& instance();

  // For rendering gauges computed at scrape time in the same format.
  static std::string escape_label(const std::string& v);
  static std::string format_labels(const labels& l);

 private:
  struct histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> buckets;  // cumulative at render time; per-bucket here
    double sum = 0;
    uint64_t count = 0;
  };
  struct family {
    std::string help, type;
    std::map<std::string, double> values;  // rendered labels -> value (counters, gauges)
    std::map<std::string, histogram> histograms;
  };
  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

}  // namespace ledgersync
