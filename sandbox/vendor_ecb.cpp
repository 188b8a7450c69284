#include "sandbox/vendor_ecb.hpp"

#include <chrono>
#include <cstdio>

namespace ledgersync::sandbox {

namespace {

struct currency {
  const char* code;
  double base;
  int decimals;  // as the ECB writes them
};
const currency kCurrencies[] = {{"USD", 1.0532, 4},  {"JPY", 162.41, 2}, {"BGN", 1.9558, 4},
                                {"CZK", 25.104, 3},  {"DKK", 7.4589, 4}, {"GBP", 0.83415, 5},
                                {"HUF", 410.25, 2},  {"PLN", 4.3055, 4}, {"RON", 4.9745, 4},
                                {"SEK", 11.5135, 4}, {"CHF", 0.9312, 4}, {"NOK", 11.7835, 4},
                                {"AUD", 1.6213, 4},  {"CAD", 1.4723, 4}, {"NZD", 1.8012, 4}};

std::chrono::year_month_day ymd(int64_t day) {
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{day}}};
}

// Easter Sunday (the anonymous Gregorian algorithm), as days since the epoch.
int64_t easter(int y) {
  int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
  int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return std::chrono::sys_days{std::chrono::year{y} / month / day}.time_since_epoch().count();
}

}  // namespace

bool ecb_feed::working_day(int64_t day) {
  auto wd = std::chrono::weekday{std::chrono::sys_days{std::chrono::days{day}}}.c_encoding();
  if (wd == 0 || wd == 6) return false;
  auto d = ymd(day);
  unsigned m = static_cast<unsigned>(d.month()), dd = static_cast<unsigned>(d.day());
  if ((m == 1 && dd == 1) || (m == 5 && dd == 1) || (m == 12 && (dd == 25 || dd == 26)))
    return false;
  int64_t e = easter(static_cast<int>(d.year()));
  return day != e - 2 && day != e + 1;
}

void ecb_feed::render_day(int64_t day, std::string& out) const {
  auto d = ymd(day);
  char buf[96];
  std::snprintf(buf, sizeof buf, "\t\t<Cube time='%04d-%02u-%02u'>\n", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  out += buf;
  for (size_t i = 0; i < sizeof kCurrencies / sizeof kCurrencies[0]; ++i) {
    const auto& c = kCurrencies[i];
    // Within ±2% of the base, moving from day to day.
    double wobble =
        static_cast<double>(mix64(seed_ ^ mix64(static_cast<uint64_t>(day) * 131 + i)) % 4001) /
            100000.0 -
        0.02;
    std::snprintf(buf, sizeof buf, "\t\t\t<Cube currency='%s' rate='%.*f'/>\n", c.code, c.decimals,
                  c.base * (1 + wobble));
    out += buf;
  }
  out += "\t\t</Cube>\n";
}

vendor_response ecb_feed::handle(const vendor_request& req) {
  vendor_response r;
  r.content_type = "text/xml";
  bool daily = req.path == "/stats/eurofxref/eurofxref-daily.xml";
  bool hist = req.path == "/stats/eurofxref/eurofxref-hist-90d.xml";
  if (!daily && !hist) {
    r.status = 404;
    r.content_type = "text/html";
    r.body = "<html><body><h1>404 Not Found</h1></body></html>";
    return r;
  }
  int64_t now = now_();
  int64_t today = now / 86'400'000;
  // Today's rates exist once published.
  int64_t last = now % 86'400'000 >= 15 * 3'600'000 ? today : today - 1;
  r.body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gesmes:Envelope "
      "xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" "
      "xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">\n\t<gesmes:subject>Reference "
      "rates</gesmes:subject>\n\t<gesmes:Sender>\n\t\t<gesmes:name>European Central "
      "Bank</gesmes:name>\n\t</gesmes:Sender>\n\t<Cube>\n";
  for (int64_t day = last; day > today - 90; --day) {
    if (!working_day(day)) continue;
    render_day(day, r.body);
    if (daily) break;
  }
  r.body += "\t</Cube>\n</gesmes:Envelope>";
  return r;
}

}  // namespace ledgersync::sandbox
