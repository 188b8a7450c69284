#include "connectors/watermark.hpp"

#include <algorithm>
#include <cctype>

namespace ledgersync {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

class scanner {
 public:
  explicit scanner(std::string_view s) : s_(s) {}
  bool digits(size_t n, int64_t& out) {
    if (at_ + n > s_.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s_[at_ + i];
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      out = out * 10 + (c - '0');
    }
    at_ += n;
    return true;
  }
  bool take(char c) {
    if (at_ < s_.size() && s_[at_] == c) return ++at_, true;
    return false;
  }
  bool done() const { return at_ == s_.size(); }
  char peek() const { return at_ < s_.size() ? s_[at_] : '\0'; }

 private:
  std::string_view s_;
  size_t at_ = 0;
};

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

std::optional<instant> parse_instant(std::string_view text) {
  scanner in(text);
  int64_t y, mo, d, h = 0, mi = 0, sec = 0;
  if (!in.digits(4, y) || !in.take('-') || !in.digits(2, mo) || !in.take('-') || !in.digits(2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  instant out;
  if (in.done()) {
    out.seconds = days_from_civil(y, unsigned(mo), unsigned(d)) * 86400;
    return out;
  }
  if (!(in.take('T') || in.take('t') || in.take(' '))) return std::nullopt;
  if (!in.digits(2, h) || !in.take(':') || !in.digits(2, mi)) return std::nullopt;
  if (in.take(':') && !in.digits(2, sec)) return std::nullopt;
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  if (in.take('.') || in.take(',')) {
    int64_t digit;
    int scale = 100000000, n = 0;
    while (in.digits(1, digit)) {
      if (scale > 0) out.nanos += static_cast<int32_t>(digit * scale);
      scale /= 10;
      ++n;
    }
    if (n == 0) return std::nullopt;
  }
  int64_t offset = 0;  // seconds east of UTC
  if (in.take('Z') || in.take('z')) {
  } else if (in.peek() == '+' || in.peek() == '-') {
    int sign = in.take('-') ? -1 : (in.take('+'), 1);
    int64_t oh, om = 0;
    if (!in.digits(2, oh)) return std::nullopt;
    if (in.take(':')) {
      if (!in.digits(2, om)) return std::nullopt;
    } else {
      in.digits(2, om);  // ±HHMM; ±HH alone leaves om at 0
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset = sign * (oh * 3600 + om * 60);
  }
  // No zone at all: read as UTC, which is how such upstreams (Xero's UpdatedDateUTC) mean it.
  if (!in.done()) return std::nullopt;
  out.seconds =
      days_from_civil(y, unsigned(mo), unsigned(d)) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return out;
}

int compare_watermarks(std::string_view a, std::string_view b, watermark_order order) {
  if (a.empty() || b.empty()) return a.empty() ? (b.empty() ? 0 : -1) : 1;
  if (order == watermark_order::timestamp) {
    if (all_digits(a) && all_digits(b)) {  // epoch numbers: by value, not by text
      a.remove_prefix(std::min(a.find_first_not_of('0'), a.size()));
      b.remove_prefix(std::min(b.find_first_not_of('0'), b.size()));
      if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    }
    auto x = parse_instant(a), y = parse_instant(b);
    if (x && y) return *x < *y ? -1 : *x > *y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

}  // namespace ledgersync
