#include "core/time_util.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <cstdio>
#include <cstdlib>

namespace ledgersync {

int64_t to_ms(sys_ms t) {
  return t.time_since_epoch().count();
}
sys_ms from_ms(int64_t ms) {
  return sys_ms{std::chrono::milliseconds(ms)};
}

std::string format_iso(sys_ms t) {
  // date::format goes through an ostringstream and its locale: with 10,000 integrations that
  // was a sixth of `list`'s time. Years it would print other than as four digits go there.
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return date::format("%FT%TZ", t);
  auto ms = (t - day).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(ms / 3'600'000), static_cast<int>(ms / 60'000 % 60),
                static_cast<int>(ms / 1000 % 60), static_cast<int>(ms % 1000));
  return buf;
}

namespace {
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}
}  // namespace

std::optional<sys_ms> parse_iso(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, se = 0, ms = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  auto ymd = date::year{y} / mo / d;
  if (!ymd.ok()) return std::nullopt;
  size_t p = 10;
  int offset_min = 0;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != ' ') return std::nullopt;
    if (!digits(s, p + 1, 2, h) || s.size() < p + 9 || s[p + 3] != ':' ||
        !digits(s, p + 4, 2, mi) || s[p + 6] != ':' || !digits(s, p + 7, 2, se))
      return std::nullopt;
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
    p += 9;
    if (p < s.size() && s[p] == '.') {
      size_t q = p + 1;
      int scale = 100;
      while (q < s.size() && s[q] >= '0' && s[q] <= '9') {
        ms += (s[q] - '0') * scale;
        scale /= 10;
        ++q;
      }
      if (q == p + 1) return std::nullopt;
      p = q;
    }
    if (p >= s.size()) return std::nullopt;  // a time needs a zone: Z or an offset
    if (s[p] == 'Z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      if (!digits(s, p + 1, 2, oh)) return std::nullopt;
      size_t mpos = p + 3;
      if (mpos < s.size() && s[mpos] == ':') ++mpos;
      if (!digits(s, mpos, 2, om)) return std::nullopt;
      offset_min = (oh * 60 + om) * (s[p] == '-' ? -1 : 1);
      p = mpos + 2;
    } else {
      return std::nullopt;
    }
    if (p != s.size()) return std::nullopt;
  }
  auto t = date::sys_days{ymd} + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(se) + std::chrono::milliseconds(ms) -
           std::chrono::minutes(offset_min);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

std::string human_age(sys_ms then, sys_ms now) {
  auto diff = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  bool future = diff < 0;
  if (future) diff = -diff;
  char buf[32];
  if (diff < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(diff));
  else if (diff < 3600)
    std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(diff / 60));
  else if (diff < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(diff / 3600),
                  static_cast<long long>(diff % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(diff / 86400),
                  static_cast<long long>(diff % 86400 / 3600));
  return future ? std::string("in ") + buf : std::string(buf) + " ago";
}

const date::time_zone* user_time_zone() {
  if (const char* tz = std::getenv("TZ"); tz && *tz) {
    std::string name = tz[0] == ':' ? tz + 1 : tz;  // POSIX allows ":Europe/London"
    try {
      return date::locate_zone(name);
    } catch (const std::exception&) {
      // A POSIX rule string ("GMT0BST") or a typo: the system's zone is the better guess.
    }
  }
  try {
    return date::current_zone();
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

std::string local_time_text(sys_ms t, sys_ms now, const date::time_zone* zone) {
  auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(t));
  auto day = std::chrono::floor<date::days>(local);
  auto today = std::chrono::floor<date::days>(zone->to_local(now));
  auto hhmm = date::format("%H:%M", local);
  auto days = (day - today).count();
  if (days == 0) return hhmm + " today";
  if (days == 1) return hhmm + " tomorrow";
  if (days == -1) return hhmm + " yesterday";
  date::year_month_day ymd{day};
  auto date_text = std::to_string(unsigned(ymd.day())) + date::format(" %b", day);
  if (ymd.year() != date::year_month_day{today}.year())
    return hhmm + " " + date_text + " " + std::to_string(int(ymd.year()));
  return hhmm + date::format(" %a ", day) + date_text;
}

std::string human_when(sys_ms t, sys_ms now, const date::time_zone* zone) {
  return human_age(t, now) + ", " + local_time_text(t, now, zone);
}

}  // namespace ledgersync
