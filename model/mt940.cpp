#include "model/mt940.hpp"

#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/utf8.hpp"

namespace ledgersync::model {
namespace {

using out = result<std::vector<canonical_record>>;

struct field {
  std::string tag;    // "61", "60F"
  std::string value;  // lines joined with '\n'
  std::string raw;    // as in the file, tag included
  size_t line = 0;    // 1-based line of the tag
};

bool is_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// ":61:" / ":60F:" at the start of a line: the tag, else empty.
std::string tag_of(std::string_view line) {
  if (line.size() < 4 || line[0] != ':') return {};
  auto end = line.find(':', 1);
  if (end == std::string_view::npos || end < 3 || end > 4) return {};
  std::string_view tag = line.substr(1, end - 1);
  if (!is_digits(tag.substr(0, 2))) return {};
  if (tag.size() == 3 && !(tag[2] >= 'A' && tag[2] <= 'Z')) return {};
  return std::string(tag);
}

result<std::string> yymmdd(std::string_view s) {
  if (s.size() != 6 || !is_digits(s))
    return result<std::string>::bad(quote_text(s) + " is not YYMMDD");
  int y = 2000 + std::stoi(std::string(s.substr(0, 2)));
  return make_date(y, std::stoul(std::string(s.substr(2, 2))),
                   std::stoul(std::string(s.substr(4, 2))));
}

result<decimal> comma_amount(std::string_view s, const std::string& currency) {
  // "1234,56", "1234,", "0,5": SWIFT's decimal comma, always present, no sign.
  if (s.empty() || s.find(',') == std::string_view::npos || s.find(',') != s.rfind(',') ||
      s.find_first_not_of("0123456789,") != std::string_view::npos || s[0] == ',') {
    return result<decimal>::bad(quote_text(s) +
                                " is not an MT940 amount (digits, one decimal comma)");
  }
  std::string t(s);
  t[t.find(',')] = '.';
  if (t.back() == '.') t.pop_back();
  return parse_amount(t, currency);
}

// :60F: etc: C|D, YYMMDD, currency, amount.
struct balance_value {
  std::string date, currency, amount;
};
result<balance_value> balance_field(const std::string& v) {
  using r = result<balance_value>;
  if (v.size() < 11 || (v[0] != 'C' && v[0] != 'D')) {
    return r::bad(quote_text(v) + " is not D/C, date, currency, amount");
  }
  auto d = yymmdd(v.substr(1, 6));
  if (!d.ok()) return r::bad(d.error);
  auto c = normalize_currency(v.substr(7, 3));
  if (!c.ok()) return r::bad(c.error);
  auto a = comma_amount(v.substr(10), *c);
  if (!a.ok()) return r::bad(a.error);
  return r::good({*d, *c, (v[0] == 'D' ? -*a : *a).to_string()});
}

struct statement_line {
  std::string value_date, entry_date, amount, type, customer_ref, bank_ref, details;
  bool reversal = false;
};

result<statement_line> line_61(const std::string& v, const std::string& currency) {
  using r = result<statement_line>;
  statement_line s;
  std::string first = v.substr(0, v.find('\n'));
  if (v.find('\n') != std::string::npos) s.details = v.substr(v.find('\n') + 1);
  auto vd = yymmdd(first.substr(0, 6));
  if (!vd.ok()) return r::bad("value date " + vd.error);
  s.value_date = *vd;
  size_t i = 6;
  if (first.size() >= 10 && is_digits(first.substr(6, 4))) {
    // The entry date has no year: the value date's, moved across a year end when needed.
    int y = std::stoi(s.value_date.substr(0, 4));
    unsigned vm = std::stoul(s.value_date.substr(5, 2)), em = std::stoul(first.substr(6, 2));
    if (vm == 1 && em == 12) --y;
    if (vm == 12 && em == 1) ++y;
    auto ed = make_date(y, em, std::stoul(first.substr(8, 2)));
    if (!ed.ok()) return r::bad("entry date " + ed.error);
    s.entry_date = *ed;
    i = 10;
  }
  bool negative;
  s.reversal = first.compare(i, 2, "RC") == 0 || first.compare(i, 2, "RD") == 0;
  if (first.compare(i, 2, "RC") == 0) {
    negative = true, i += 2;  // reversal of a credit: money goes out again
  } else if (first.compare(i, 2, "RD") == 0) {
    negative = false, i += 2;  // reversal of a debit: money comes back
  } else if (i < first.size() && (first[i] == 'C' || first[i] == 'D')) {
    negative = first[i] == 'D', ++i;
  } else {
    return r::bad("no C, D, RC or RD mark after the dates");
  }
  if (i < first.size() && first[i] >= 'A' && first[i] <= 'Z') ++i;  // funds code
  size_t amount_end = first.find_first_not_of("0123456789,", i);
  if (amount_end == std::string::npos) return r::bad("no transaction type after the amount");
  auto a = comma_amount(std::string_view(first).substr(i, amount_end - i), currency);
  if (!a.ok()) return r::bad(a.error);
  s.amount = (negative ? -*a : *a).to_string();
  i = amount_end;
  if (first.size() < i + 4 || (first[i] != 'N' && first[i] != 'F' && first[i] != 'S')) {
    return r::bad("the transaction type must be N, F or S and three characters");
  }
  s.type = first.substr(i, 4);
  i += 4;
  std::string refs = first.substr(i);
  auto slashes = refs.find("//");
  s.customer_ref = refs.substr(0, slashes);
  if (slashes != std::string::npos) s.bank_ref = refs.substr(slashes + 2);
  if (s.customer_ref.empty()) return r::bad("the customer reference is missing (NONREF when none)");
  return r::good(std::move(s));
}

// ":86:" text: structured ?NN subfields when the bank uses them, else the lines as one text.
void info_86(const std::string& v, std::string* text, std::string* party) {
  if (v.find('?') == std::string::npos || v.size() < 3) {
    std::string t = v;
    for (auto& c : t) c = c == '\n' ? ' ' : c;
    *text = t;
    return;
  }
  std::string joined;
  for (char c : v) {
    if (c != '\n') joined += c;
  }
  size_t pos = joined.find('?');
  while (pos != std::string::npos && pos + 3 <= joined.size()) {
    std::string code = joined.substr(pos + 1, 2);
    size_t next = joined.find('?', pos + 3);
    std::string val = joined.substr(pos + 3, next == std::string::npos ? next : next - pos - 3);
    if (code >= "20" && code <= "29") *text += val;
    if (code == "32" || code == "33") *party += val;
    pos = next;
  }
}

struct statement {
  std::string ref, account, number;
  std::vector<field> fields;
};

std::string balance_type(const std::string& tag) {
  if (tag == "60F") return "opening";
  if (tag == "60M") return "interim_opening";
  if (tag == "62F") return "closing";
  if (tag == "62M") return "interim_closing";
  if (tag == "64") return "available";
  return "forward_available";  // 65
}

result<std::vector<canonical_record>> map_statement(const statement& st) {
  std::vector<canonical_record> records;
  std::string currency;
  size_t n = 0;
  bool opening = false, closing = false;
  for (size_t k = 0; k < st.fields.size(); ++k) {
    const field& f = st.fields[k];
    auto fail = [&](const std::string& why) {
      return out::bad("MT940 line " + std::to_string(f.line) + " (:" + f.tag + ":): " + why);
    };
    if (f.tag == "60F" || f.tag == "60M" || f.tag == "62F" || f.tag == "62M" || f.tag == "64" ||
        f.tag == "65") {
      auto b = balance_field(f.value);
      if (!b.ok()) return fail(b.error);
      if (f.tag.starts_with("60")) opening = true, currency = b->currency;
      if (f.tag.starts_with("62")) closing = true;
      canonical_record r;
      r.entity = "balance";
      r.source = "mt940";
      r.raw = f.raw;
      std::string type = balance_type(f.tag);
      r.id = "mt940:" + st.account + ":" + type + ":" + b->date;
      r.fields = {{"id", r.id},
                  {"account", st.account},
                  {"type", type},
                  {"amount", b->amount},
                  {"currency", b->currency},
                  {"date", b->date},
                  {"statement_id", st.ref}};
      records.push_back(std::move(r));
    } else if (f.tag == "61") {
      if (currency.empty()) return fail("a statement line before the opening balance :60F:");
      auto s = line_61(f.value, currency);
      if (!s.ok()) return fail(s.error);
      canonical_record r;
      r.entity = "bank_transaction";
      r.source = "mt940";
      r.raw = f.raw;
      r.id = "mt940:" + st.account + ":" + st.number + ":" + std::to_string(++n);
      auto& j = r.fields;
      j = {{"id", r.id},
           {"account", st.account},
           {"amount", s->amount},
           {"currency", currency},
           {"value_date", s->value_date},
           {"status", "booked"},
           {"reversal", s->reversal},
           {"type_code", s->type}};
      j["booking_date"] = s->entry_date.empty() ? s->value_date : s->entry_date;
      if (s->customer_ref != "NONREF") j["reference"] = s->customer_ref;
      if (!s->bank_ref.empty()) j["bank_reference"] = s->bank_ref;
      if (k + 1 < st.fields.size() && st.fields[k + 1].tag == "86") {
        const field& info = st.fields[++k];
        std::string text, party;
        info_86(info.value, &text, &party);
        if (!text.empty()) j["description"] = text;
        if (!party.empty()) j["counterparty"] = party;
        r.raw += "\n" + info.raw;
      } else if (!s->details.empty()) {
        j["description"] = s->details;
      }
      records.push_back(std::move(r));
    }
  }
  std::string where = "MT940 statement " + quote_text(st.ref) + ": ";
  if (!opening) return out::bad(where + "no opening balance (:60F: or :60M:)");
  if (!closing) return out::bad(where + "no closing balance (:62F: or :62M:)");
  return out::good(std::move(records));
}

// The text between "{4:" and "-}" when the file has a SWIFT envelope.
std::string_view body_of(std::string_view text) {
  auto b = text.find("{4:");
  if (b == std::string_view::npos) return text;
  auto e = text.find("-}", b);
  return text.substr(b + 3, e == std::string_view::npos ? e : e - b - 3);
}

}  // namespace

result<std::vector<canonical_record>> parse_mt940(std::string_view original) {
  // SWIFT's character set is ASCII; banks that go beyond it (umlauts in :86:) mostly write
  // ISO-8859-1. Anything that is not UTF-8 is read as that.
  std::string converted;
  std::string_view input = original;
  if (invalid_utf8_at(original) != std::string_view::npos) {
    converted = latin1_to_utf8(original);
    input = converted;
  }
  std::string_view text = body_of(input);
  std::vector<statement> statements;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line == "-") continue;
    std::string tag = tag_of(line);
    if (tag.empty()) {
      if (statements.empty() || statements.back().fields.empty()) {
        return out::bad("MT940 line " + std::to_string(line_no) + ": " + quote_text(line) +
                        " is neither a :tag: nor the continuation of one");
      }
      auto& f = statements.back().fields.back();
      f.value += "\n" + std::string(line);
      f.raw += "\n" + std::string(line);
      continue;
    }
    if (tag == "20") statements.emplace_back();
    if (statements.empty()) {
      return out::bad("MT940 line " + std::to_string(line_no) +
                      ": the statement must begin with :20:");
    }
    field f;
    f.tag = tag;
    f.value = std::string(line.substr(tag.size() + 2));
    f.raw = std::string(line);
    f.line = line_no;
    statements.back().fields.push_back(std::move(f));
  }
  if (statements.empty()) return out::bad("MT940: no statement (:20:) in the file");
  std::vector<canonical_record> records;
  for (auto& st : statements) {
    for (const auto& f : st.fields) {
      if (f.tag == "20") st.ref = f.value;
      if (f.tag == "25") st.account = f.value;
      if (f.tag == "28C" || f.tag == "28") st.number = f.value;
    }
    std::string where = "MT940 statement " + quote_text(st.ref) + ": ";
    if (st.ref.empty()) return out::bad(where + ":20: is empty");
    if (st.account.empty()) return out::bad(where + "no account (:25:)");
    if (st.number.empty()) return out::bad(where + "no statement number (:28C:)");
    auto mapped = map_statement(st);
    if (!mapped.ok()) return mapped;
    for (auto& r : *mapped.value) records.push_back(std::move(r));
  }
  for (const auto& r : records) {
    if (auto ps = validate(r); !ps.empty()) {
      return out::bad("MT940 record " + r.id + ": " + describe(ps));
    }
  }
  return out::good(std::move(records));
}

}  // namespace ledgersync::model
