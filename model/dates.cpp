#include "model/dates.hpp"

#include <chrono>
#include <cstdio>

namespace ledgersync::model {
namespace {

using namespace std::chrono;

struct instant {
  sys_days day;
  int64_t ms_of_day = 0;   // in the zone written
  int64_t offset_min = 0;  // the zone written, minutes east of UTC
};

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Years 0001-9999: what YYYY can write and every vendor means.
constexpr int64_t min_ms = -62135596800000, max_ms = 253402300799999;

std::string format_day(sys_days d) {
  year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string format_utc_ms(int64_t ms) {
  auto tp = sys_time<milliseconds>(milliseconds(ms));
  auto day = floor<days>(tp);
  int64_t rest = (tp - day).count();
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d", format_day(day).c_str(),
                        static_cast<int>(rest / 3600000), static_cast<int>(rest / 60000 % 60),
                        static_cast<int>(rest / 1000 % 60));
  if (rest % 1000 != 0)
    std::snprintf(buf + n, sizeof buf - n, ".%03d", static_cast<int>(rest % 1000));
  return std::string(buf) + "Z";
}

// "/Date(1539993600000+0000)/" and "/Date(1552326816230)/".
bool parse_ms_date(std::string_view s, instant* out) {
  constexpr std::string_view head = "/Date(", tail = ")/";
  if (s.size() < head.size() + tail.size() + 1 || s.substr(0, head.size()) != head ||
      s.substr(s.size() - tail.size()) != tail) {
    return false;
  }
  std::string_view body = s.substr(head.size(), s.size() - head.size() - tail.size());
  size_t i = 0;
  bool neg = false;
  if (body[0] == '-') neg = true, i = 1;
  int64_t ms = 0;
  size_t start = i;
  for (; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i) {
    if (i - start >= 15) return false;  // beyond year 33658: not a date
    ms = ms * 10 + (body[i] - '0');
  }
  if (i == start) return false;
  if (neg) ms = -ms;
  int64_t offset = 0;
  if (i < body.size()) {
    int hh, mm;
    if (body.size() - i != 5 || (body[i] != '+' && body[i] != '-') ||
        !digits(body, i + 1, 2, &hh) || !digits(body, i + 3, 2, &mm) || hh > 23 || mm > 59) {
      return false;
    }
    offset = (hh * 60 + mm) * (body[i] == '-' ? -1 : 1);
  }
  if (ms < min_ms || ms > max_ms) return false;
  int64_t local = ms + offset * 60000;
  auto tp = sys_time<milliseconds>(milliseconds(local));
  out->day = floor<days>(tp);
  out->ms_of_day = (tp - out->day).count();
  out->offset_min = offset;
  return true;
}

// ISO 8601 extended format, date or date-time.
bool parse_iso(std::string_view s, instant* out) {
  int y, mo, d;
  if (!digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d)) {
    return false;
  }
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return false;
  out->day = sys_days(ymd);
  out->ms_of_day = 0;
  out->offset_min = 0;
  if (s.size() == 10) return true;
  int hh, mi, ss = 0;
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, &hh) || s.size() < 16 ||
      s[13] != ':' || !digits(s, 14, 2, &mi)) {
    return false;
  }
  size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!digits(s, 17, 2, &ss)) return false;
    i = 19;
  }
  if (hh > 23 || mi > 59 || ss > 60) return false;
  if (ss == 60) ss = 59;  // a leap second is kept inside its minute
  int64_t ms = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    size_t start = ++i;
    int scale = 100;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      ms += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (i == start || i - start > 9) return false;
  }
  out->ms_of_day = ((hh * 60 + mi) * 60 + ss) * 1000 + ms;
  if (i == s.size()) return true;
  if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) return true;
  if (s[i] != '+' && s[i] != '-') return false;
  int oh, om;
  std::string_view z = s.substr(i + 1);
  if (z.size() == 5 && z[2] == ':' && digits(z, 0, 2, &oh) && digits(z, 3, 2, &om)) {
  } else if (z.size() == 4 && digits(z, 0, 2, &oh) && digits(z, 2, 2, &om)) {
  } else if (z.size() == 2 && digits(z, 0, 2, &oh)) {
    om = 0;
  } else {
    return false;
  }
  if (oh > 23 || om > 59) return false;
  out->offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
  return true;
}

bool parse_any(std::string_view s, instant* out) {
  return s.starts_with("/Date(") ? parse_ms_date(s, out) : parse_iso(s, out);
}

}  // namespace

result<std::string> normalize_date(std::string_view text) {
  instant t;
  if (!parse_any(text, &t)) return result<std::string>::bad(quote_text(text) + " is not a date");
  int64_t day_ms = duration_cast<milliseconds>(t.day.time_since_epoch()).count();
  if (day_ms < min_ms || day_ms > max_ms) {
    return result<std::string>::bad(quote_text(text) + " is outside the years 0001-9999");
  }
  return result<std::string>::good(format_day(t.day));
}

result<std::string> normalize_datetime(std::string_view text) {
  instant t;
  if (!parse_any(text, &t)) {
    return result<std::string>::bad(quote_text(text) + " is not a date and time");
  }
  int64_t utc_ms = duration_cast<milliseconds>(t.day.time_since_epoch()).count() + t.ms_of_day -
                   t.offset_min * 60000;
  if (utc_ms < min_ms || utc_ms > max_ms) {
    return result<std::string>::bad(quote_text(text) + " is outside the years 0001-9999");
  }
  return result<std::string>::good(format_utc_ms(utc_ms));
}

std::string date_from_unix(int64_t seconds) {
  return format_day(floor<days>(sys_seconds(std::chrono::seconds(seconds))));
}

std::string datetime_from_unix(int64_t seconds) {
  return format_utc_ms(seconds * 1000);
}

bool is_canonical_date(std::string_view text) {
  auto r = normalize_date(text);
  return text.size() == 10 && r.ok() && *r == text;
}

bool is_canonical_datetime(std::string_view text) {
  auto r = normalize_datetime(text);
  return r.ok() && *r == text;
}

result<std::string> make_date(int y, unsigned m, unsigned d) {
  year_month_day ymd{year(y), month(m), day(d)};
  if (!ymd.ok() || y < 1 || y > 9999) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u is not a calendar day", y, m, d);
    return result<std::string>::bad(buf);
  }
  return result<std::string>::good(format_day(sys_days(ymd)));
}

}  // namespace ledgersync::model
