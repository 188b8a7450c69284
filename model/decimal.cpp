#include "model/decimal.hpp"

#include <algorithm>

namespace ledgersync::model {
namespace {

using i128 = __int128;

// 10^36 < 2^127 / 10, so a coefficient of max_digits digits can take one more digit without
// overflow while it is being read.
i128 pow10(int n) {
  i128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}
const i128 digits_limit = pow10(decimal::max_digits);

bool checked_mul10(i128 v, int n, i128* out) {
  for (int i = 0; i < n; ++i) {
    if (v >= digits_limit || v <= -digits_limit) return false;
    v *= 10;
  }
  if (v >= digits_limit || v <= -digits_limit) return false;
  *out = v;
  return true;
}

std::string digits_of(i128 v) {  // v >= 0
  std::string s;
  do {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace

result<decimal> decimal::parse(std::string_view text) {
  auto bad = [&](const char* why) {
    return result<decimal>::bad(quote_text(text) + " is not a decimal number (" + why + ")");
  };
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  i128 units = 0;
  int digits = 0, frac = 0;
  bool any = false, in_frac = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (in_frac) return bad("two decimal points");
      in_frac = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any = true;
    if (units != 0 || c != '0') ++digits;
    if (digits > max_digits) return bad("more than 36 significant digits");
    units = units * 10 + (c - '0');
    if (in_frac) ++frac;
  }
  if (!any) return bad("no digits");
  long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    size_t start = i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      exp = exp * 10 + (text[i] - '0');
      if (exp > 1000) return bad("exponent out of range");
    }
    if (i == start) return bad("exponent without digits");
    if (eneg) exp = -exp;
  }
  if (i != text.size()) return bad("unexpected character");
  long scale = frac - exp;
  // Zeros beyond max_scale carry no information; anything else would be lost, so refuse.
  while (scale > max_scale && units % 10 == 0 && units != 0) {
    units /= 10;
    --scale;
  }
  if (units == 0 && scale > max_scale) scale = max_scale;
  if (scale > max_scale) return bad("more than 30 decimal places");
  if (scale < 0) {
    if (!checked_mul10(units, static_cast<int>(-scale), &units)) return bad("too large");
    scale = 0;
  }
  return result<decimal>::good(decimal(neg ? -units : units, static_cast<int>(scale)));
}

decimal decimal::from_minor(int64_t units, int exponent) {
  if (exponent >= 0) return decimal(units, std::min(exponent, max_scale));
  return decimal(static_cast<i128>(units) * pow10(-exponent), 0);
}

std::string decimal::to_string() const {
  std::string d = digits_of(units_ < 0 ? -units_ : units_);
  size_t width = static_cast<size_t>(scale_) + 1;  // at least one digit before the point
  std::string out = units_ < 0 ? "-" : "";
  if (d.size() < width) out.append(width - d.size(), '0');
  out += d;
  if (scale_ > 0) out.insert(out.end() - scale_, '.');
  return out;
}

result<decimal> decimal::rescale(int new_scale, rounding mode) const {
  if (new_scale < 0 || new_scale > max_scale) {
    return result<decimal>::bad("scale " + std::to_string(new_scale) + " is out of range");
  }
  if (new_scale >= scale_) {
    i128 u;
    if (!checked_mul10(units_, new_scale - scale_, &u)) {
      return result<decimal>::bad(to_string() + " is too large for " + std::to_string(new_scale) +
                                  " decimal places");
    }
    return result<decimal>::good(decimal(u, new_scale));
  }
  i128 div = pow10(scale_ - new_scale);
  i128 q = units_ / div, r = units_ % div;  // truncates toward zero; r has the sign of units_
  if (r == 0) return result<decimal>::good(decimal(q, new_scale));
  if (mode == rounding::none) {
    return result<decimal>::bad(to_string() + " has more than " + std::to_string(new_scale) +
                                " decimal places");
  }
  i128 twice = (r < 0 ? -r : r) * 2;
  bool away = twice > div || (twice == div && (mode == rounding::half_up || (q % 2 != 0)));
  if (away) q += units_ < 0 ? -1 : 1;
  return result<decimal>::good(decimal(q, new_scale));
}

decimal decimal::trimmed() const {
  decimal d = *this;
  while (d.scale_ > 0 && d.units_ % 10 == 0) {
    d.units_ /= 10;
    --d.scale_;
  }
  return d;
}

result<int64_t> decimal::minor_units(int exponent) const {
  auto r = rescale(exponent);
  if (!r.ok()) return result<int64_t>::bad(r.error);
  i128 u = r->units_;
  if (u > INT64_MAX || u < INT64_MIN) {
    return result<int64_t>::bad(to_string() + " does not fit 64-bit minor units");
  }
  return result<int64_t>::good(static_cast<int64_t>(u));
}

result<decimal> decimal::plus(const decimal& other) const {
  int s = std::max(scale_, other.scale_);
  i128 a, b;
  if (!checked_mul10(units_, s - scale_, &a) ||
      !checked_mul10(other.units_, s - other.scale_, &b) || a + b >= digits_limit ||
      a + b <= -digits_limit) {
    return result<decimal>::bad(to_string() + " + " + other.to_string() + " is too large");
  }
  return result<decimal>::good(decimal(a + b, s));
}

result<decimal> decimal::times(const decimal& other) const {
  i128 p;
  int s = scale_ + other.scale_;
  if (__builtin_mul_overflow(units_, other.units_, &p) || p >= digits_limit ||
      p <= -digits_limit || s > max_scale)
    return result<decimal>::bad(to_string() + " x " + other.to_string() + " is too large");
  return result<decimal>::good(decimal(p, s));
}

std::strong_ordering operator<=>(const decimal& a, const decimal& b) {
  int s = std::max(a.scale_, b.scale_);
  i128 x, y;
  bool okx = checked_mul10(a.units_, s - a.scale_, &x);
  bool oky = checked_mul10(b.units_, s - b.scale_, &y);
  // A coefficient that overflows when aligned is larger in magnitude than any that fits.
  if (!okx) return a.units_ < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  if (!oky) return b.units_ < 0 ? std::strong_ordering::greater : std::strong_ordering::less;
  return x <=> y;
}

}  // namespace ledgersync::model
