#include "config/schedule.hpp"

#include <date/tz.h>

#include <algorithm>
#include <sstream>
#include <vector>

namespace ledgersync {

namespace {

using namespace std::chrono;

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool parse_hhmm(const std::string& s, int& h, int& m) {
  auto colon = s.find(':');
  if (colon == std::string::npos) return false;
  return parse_int(std::string_view(s).substr(0, colon), h) &&
         parse_int(std::string_view(s).substr(colon + 1), m) && h < 24 && m < 60 &&
         s.size() - colon == 3;
}

const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
const char* const kMonths[] = {"",    "jan", "feb", "mar", "apr", "may", "jun",
                               "jul", "aug", "sep", "oct", "nov", "dec"};

int name_value(const std::string& s, bool months) {
  auto l = lower(s);
  if (months) {
    for (int i = 1; i <= 12; ++i)
      if (l == kMonths[i]) return i;
  } else {
    for (int i = 0; i < 7; ++i)
      if (l == kDays[i]) return i;
  }
  return -1;
}

// One cron field: "*", "*/5", "1-5", "1,3,5", "mon-fri", "0-30/10".
template <size_t N>
bool parse_cron_field(const std::string& field, int lo, int hi, bool months, bool dows,
                      std::bitset<N>& out, bool& star, std::string& error) {
  out.reset();
  star = field == "*" || field == "?";
  std::stringstream ss(field);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int step = 1;
    auto slash = part.find('/');
    if (slash != std::string::npos) {
      if (!parse_int(std::string_view(part).substr(slash + 1), step) || step == 0) {
        error = "bad step in cron field '" + field + "'";
        return false;
      }
      part = part.substr(0, slash);
    }
    int a, b;
    auto value = [&](const std::string& v, int& o) {
      if (parse_int(v, o)) return true;
      o = (months || dows) ? name_value(v, months) : -1;
      return o >= 0;
    };
    if (part == "*") {
      a = lo;
      b = hi;
    } else if (auto dash = part.find('-'); dash != std::string::npos) {
      if (!value(part.substr(0, dash), a) || !value(part.substr(dash + 1), b)) {
        error = "bad range in cron field '" + field + "'";
        return false;
      }
    } else {
      if (!value(part, a)) {
        error = "bad value in cron field '" + field + "'";
        return false;
      }
      b = slash != std::string::npos ? hi : a;
    }
    if (dows && b == 7) b = 6, out.set(0);  // 7 is Sunday too
    if (dows && a == 7) a = 0;
    if (a < lo || b > hi || a > b) {
      error = "value out of range in cron field '" + field + "' (" + std::to_string(lo) + "-" +
              std::to_string(hi) + ")";
      return false;
    }
    for (int i = a; i <= b; i += step) out.set(static_cast<size_t>(i));
  }
  if (out.none()) {
    error = "empty cron field '" + field + "'";
    return false;
  }
  return true;
}

const date::time_zone* find_zone(const std::string& name, std::string& error) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    error = "unknown time zone '" + name + "' (use an IANA name such as Europe/London or UTC)";
    return nullptr;
  }
}

}  // namespace

std::optional<schedule> schedule::parse(std::string_view spec_in, std::string& error) {
  auto words = split_ws(spec_in);
  schedule s;
  if (words.empty() || lower(words[0]) == "manual" || lower(words[0]) == "none") {
    if (words.size() > 1) {
      error = "'manual' takes no arguments";
      return std::nullopt;
    }
    return s;
  }
  auto head = lower(words[0]);
  auto zone_from = [&](size_t idx) -> bool {
    std::string z = idx < words.size() ? words[idx] : "UTC";
    if (idx + 1 < words.size()) {
      error = "unexpected '" + words[idx + 1] + "' after the time zone";
      return false;
    }
    s.zone_ = find_zone(z, error);
    return s.zone_ != nullptr;
  };
  if (head == "every") {
    if (words.size() != 2) {
      error = "expected 'every N(s|m|h|d)', e.g. 'every 15m'";
      return std::nullopt;
    }
    auto w = lower(words[1]);
    int n;
    char unit = w.empty() ? 0 : w.back();
    if (!parse_int(std::string_view(w).substr(0, w.size() - 1), n) || n <= 0) {
      error = "bad interval '" + words[1] + "': expected e.g. 15m, 2h, 1d";
      return std::nullopt;
    }
    switch (unit) {
      case 's':
        s.interval_ = seconds(n);
        break;
      case 'm':
        s.interval_ = minutes(n);
        break;
      case 'h':
        s.interval_ = hours(n);
        break;
      case 'd':
        s.interval_ = hours(24 * n);
        break;
      default:
        error = "bad interval unit in '" + words[1] + "': use s, m, h or d";
        return std::nullopt;
    }
    if (s.interval_ < seconds(10)) {
      error = "interval too short: at least 10s";
      return std::nullopt;
    }
    s.kind_ = kind::every;
    s.spec_ = "every " + w;
    return s;
  }
  if (head == "daily" || head == "weekly") {
    size_t at = head == "daily" ? 1 : 2;
    if (words.size() <= at) {
      error = head == "daily" ? "expected 'daily HH:MM [TIME_ZONE]'"
                              : "expected 'weekly DAY[,DAY] HH:MM [TIME_ZONE]'";
      return std::nullopt;
    }
    if (head == "weekly") {
      std::stringstream days(words[1]);
      std::string d;
      while (std::getline(days, d, ',')) {
        int v = name_value(d, false);
        if (v < 0) {
          error = "bad day '" + d + "': use mon, tue, wed, thu, fri, sat or sun";
          return std::nullopt;
        }
        s.cron_dow_.set(static_cast<size_t>(v));
      }
    }
    if (!parse_hhmm(words[at], s.hour_, s.minute_)) {
      error = "bad time '" + words[at] + "': expected HH:MM (24-hour)";
      return std::nullopt;
    }
    if (!zone_from(at + 1)) return std::nullopt;
    s.kind_ = head == "daily" ? kind::daily : kind::weekly;
    std::ostringstream o;
    o << head;
    if (s.kind_ == kind::weekly) o << ' ' << lower(words[1]);
    o << ' ' << words[at] << ' ' << s.zone_->name();
    s.spec_ = o.str();
    return s;
  }
  if (head == "cron") {
    if (words.size() < 6) {
      error = "expected 'cron MIN HOUR DOM MONTH DOW [TIME_ZONE]'";
      return std::nullopt;
    }
    bool star;
    if (!parse_cron_field(words[1], 0, 59, false, false, s.cron_min_, star, error) ||
        !parse_cron_field(words[2], 0, 23, false, false, s.cron_hour_, star, error) ||
        !parse_cron_field(words[3], 1, 31, false, false, s.cron_dom_, s.cron_dom_star_, error) ||
        !parse_cron_field(words[4], 1, 12, true, false, s.cron_month_, star, error) ||
        !parse_cron_field(words[5], 0, 6, false, true, s.cron_dow_, s.cron_dow_star_, error))
      return std::nullopt;
    if (!zone_from(6)) return std::nullopt;
    s.kind_ = kind::cron;
    s.cron_hour_wild_ = words[2].front() == '*';
    std::ostringstream o;
    o << "cron";
    for (int i = 1; i <= 5; ++i) o << ' ' << words[static_cast<size_t>(i)];
    o << ' ' << s.zone_->name();
    s.spec_ = o.str();
    // A field set that can never match (Feb 30) would loop forever at run time; refuse it now.
    if (!s.next_after(from_ms(0))) {
      error = "cron expression never fires";
      return std::nullopt;
    }
    return s;
  }
  error = "unknown schedule '" + std::string(spec_in) +
          "': use 'every 15m', 'daily 06:00 Europe/London', 'weekly mon 06:00 UTC', "
          "'cron 0 6 * * 1-5 UTC' or 'manual'";
  return std::nullopt;
}

bool schedule::cron_day_matches(int dom, int month, int dow) const {
  if (!cron_month_.test(static_cast<size_t>(month))) return false;
  bool dom_ok = cron_dom_.test(static_cast<size_t>(dom));
  bool dow_ok = cron_dow_.test(static_cast<size_t>(dow));
  // Vixie cron: when both day fields are restricted, either may match.
  if (!cron_dom_star_ && !cron_dow_star_) return dom_ok || dow_ok;
  return dom_ok && dow_ok;
}

std::optional<sys_ms> schedule::next_local(sys_ms after) const {
  auto local_after = zone_->to_local(after);
  auto day = floor<date::days>(local_after);
  // Five years covers every satisfiable cron expression (Feb 29 on a Monday included).
  for (int i = 0; i < 366 * 5 + 7; ++i, day += date::days{1}) {
    date::year_month_day ymd{day};
    int dow = static_cast<int>(date::weekday{day}.c_encoding());
    std::vector<std::pair<int, int>> times;
    if (kind_ == kind::daily) {
      times.emplace_back(hour_, minute_);
    } else if (kind_ == kind::weekly) {
      if (!cron_dow_.test(static_cast<size_t>(dow))) continue;
      times.emplace_back(hour_, minute_);
    } else {
      if (!cron_day_matches(static_cast<int>(unsigned(ymd.day())),
                            static_cast<int>(unsigned(ymd.month())), dow))
        continue;
      for (int h = 0; h < 24; ++h)
        if (cron_hour_.test(static_cast<size_t>(h)))
          for (int m = 0; m < 60; ++m)
            if (cron_min_.test(static_cast<size_t>(m))) times.emplace_back(h, m);
    }
    // The repeated hour's second pass comes after the first pass's later slots (01:00 GMT
    // follows 01:30 BST), so a day's slots are not in time order: take the earliest.
    std::optional<sys_ms> best;
    auto consider = [&](sys_ms t) {
      if (t > after && (!best || t < *best)) best = t;
    };
    for (auto [h, m] : times) {
      auto local = date::local_seconds{day} + hours(h) + minutes(m);
      // earliest: a nonexistent time maps to the transition, an ambiguous one to its first
      // occurrence, so each local slot fires once...
      consider(time_point_cast<milliseconds>(zone_->to_sys(local, date::choose::earliest)));
      // ...except under a wildcard hour, which means "every hour" and so fires in both passes.
      if (kind_ == kind::cron && cron_hour_wild_)
        consider(time_point_cast<milliseconds>(zone_->to_sys(local, date::choose::latest)));
    }
    if (best) return best;
  }
  return std::nullopt;
}

std::optional<sys_ms> schedule::next_after(sys_ms after) const {
  switch (kind_) {
    case kind::manual:
      return std::nullopt;
    case kind::every: {
      auto n = interval_.count();
      auto a = to_ms(after);
      auto q = a >= 0 ? a / n : -((-a + n - 1) / n);
      return from_ms((q + 1) * n);
    }
    default:
      return next_local(after);
  }
}

std::optional<sys_ms> schedule::next_after(sys_ms after, milliseconds offset) const {
  auto t = next_after(after - offset);
  if (!t) return t;
  return *t + offset;
}

milliseconds schedule::period() const {
  switch (kind_) {
    case kind::manual:
      return milliseconds(0);
    case kind::every:
      return interval_;
    case kind::daily:
      return hours(24);
    case kind::weekly: {
      // Longest gap between chosen days.
      int longest = 0, prev = -1, first = -1;
      for (int d = 0; d < 7; ++d)
        if (cron_dow_.test(static_cast<size_t>(d))) {
          if (prev >= 0) longest = std::max(longest, d - prev);
          if (first < 0) first = d;
          prev = d;
        }
      longest = std::max(longest, first + 7 - prev);
      return hours(24 * longest);
    }
    case kind::cron: {
      // Sample the fires of a fixed reference year and take the longest gap.
      milliseconds longest{0};
      auto t = next_after(from_ms(1767225600000));  // 2026-01-01
      for (int i = 0; i < 64 && t; ++i) {
        auto n = next_after(*t);
        if (!n) break;
        longest = std::max(longest, duration_cast<milliseconds>(*n - *t));
        t = n;
      }
      return longest;
    }
  }
  return milliseconds(0);
}

milliseconds schedule::stale_after() const {
  auto p = period();
  return p + std::min<milliseconds>(p, hours(1));
}

milliseconds schedule::spread_offset(std::string_view name) const {
  auto window = std::min<milliseconds>(period() / 10, minutes(5));
  if (window.count() <= 0) return milliseconds(0);
  // FNV-1a: stable across runs and builds, unlike std::hash.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return milliseconds(static_cast<int64_t>(h % static_cast<uint64_t>(window.count())));
}

}  // namespace ledgersync
