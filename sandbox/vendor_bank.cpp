#include "sandbox/vendor_bank.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sandbox/vendor_common.hpp"

namespace ledgersync::sandbox {

namespace {

const char* const kIban = "DE89370400440532013000";

// Statement n is of day n after 2026-11-01.
std::chrono::year_month_day day_of(int n) {
  using namespace std::chrono;
  return year_month_day{sys_days{year{2026} / November / 1} + days{n}};
}

std::string iso_day(int n) {
  auto d = day_of(n);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()),
                unsigned(d.day()));
  return buf;
}

std::string swift_day(int n) {
  auto d = day_of(n);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02u%02u", int(d.year()) % 100, unsigned(d.month()),
                unsigned(d.day()));
  return buf;
}

struct entry {
  int64_t cents;  // signed: credit positive
  std::string ref, text;
};

std::vector<entry> entries(uint64_t seed, int n) {
  std::vector<entry> out;
  for (int k = 1; k <= 3; ++k) {
    uint64_t h = mix64(seed ^ mix64(uint64_t(n) * 31 + uint64_t(k)));
    int64_t cents = static_cast<int64_t>(h % 500000 + 100);
    out.push_back({k == 2 ? -cents : cents, "SBX" + std::to_string(n) + "-" + std::to_string(k),
                   "Invoice SI-" + std::to_string(1000 + (h >> 20) % 9000)});
  }
  return out;
}

int64_t opening(uint64_t seed, int n) {
  return static_cast<int64_t>(mix64(seed ^ uint64_t(n)) % 10000000);
}

std::string decimal(int64_t cents, char mark) {
  auto a = cents < 0 ? -cents : cents;
  auto text = std::to_string(a / 100) + mark + (a % 100 < 10 ? "0" : "") + std::to_string(a % 100);
  return text;
}

}  // namespace

std::string camt053_statement(uint64_t seed, int n) {
  auto day = iso_day(n);
  auto list = entries(seed, n);
  int64_t open = opening(seed, n), close = open;
  for (auto& e : list) close += e.cents;
  auto bal = [&](const char* code, int64_t cents) {
    return std::string("<Bal><Tp><CdOrPrtry><Cd>") + code +
           "</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">" + decimal(cents, '.') + "</Amt><CdtDbtInd>" +
           (cents < 0 ? "DBIT" : "CRDT") + "</CdtDbtInd><Dt><Dt>" + day + "</Dt></Dt></Bal>\n";
  };
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n"
      "<BkToCstmrStmt><GrpHdr><MsgId>SBX-MSG-" +
      std::to_string(n) + "</MsgId><CreDtTm>" + day +
      "T06:00:00Z</CreDtTm></GrpHdr>\n<Stmt><Id>SBX-STMT-" + std::to_string(n) + "</Id><CreDtTm>" +
      day + "T06:00:00Z</CreDtTm>\n<Acct><Id><IBAN>" + kIban +
      "</IBAN></Id><Ccy>EUR</Ccy></Acct>\n";
  out += bal("OPBD", open) + bal("CLBD", close);
  for (auto& e : list)
    out += "<Ntry><Amt Ccy=\"EUR\">" + decimal(e.cents, '.') + "</Amt><CdtDbtInd>" +
           (e.cents < 0 ? "DBIT" : "CRDT") + "</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>" + day +
           "</Dt></BookgDt><ValDt><Dt>" + day + "</Dt></ValDt><AcctSvcrRef>" + e.ref +
           "</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>" + e.text +
           "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n";
  out += "</Stmt></BkToCstmrStmt></Document>\n";
  return out;
}

std::string mt940_statement(uint64_t seed, int n) {
  auto day = swift_day(n);
  auto list = entries(seed, n);
  int64_t open = opening(seed, n), close = open;
  for (auto& e : list) close += e.cents;
  auto bal = [&](const char* tag, int64_t cents) {
    return std::string(tag) + (cents < 0 ? "D" : "C") + day + "EUR" + decimal(cents, ',') + "\r\n";
  };
  std::string out = ":20:SBX" + std::to_string(n) + "\r\n:25:" + kIban +
                    "\r\n:28C:" + std::to_string(n) + "/1\r\n" + bal(":60F:", open);
  for (auto& e : list)
    out += ":61:" + day + day.substr(2) + (e.cents < 0 ? "D" : "C") + decimal(e.cents, ',') +
           "NTRFNONREF//" + e.ref + "\r\n:86:" + e.text + "\r\n";
  out += bal(":62F:", close) + "-\r\n";
  return out;
}

std::string write_statement(const std::string& dir, const std::string& format, uint64_t seed, int n,
                            std::string& error) {
  namespace fs = std::filesystem;
  std::string name, text;
  if (format == "camt053") {
    name = "stmt-" + std::to_string(n) + ".xml";
    text = camt053_statement(seed, n);
  } else if (format == "mt940") {
    name = "stmt-" + std::to_string(n) + ".sta";
    text = mt940_statement(seed, n);
  } else if (format == "malformed") {
    name = "stmt-" + std::to_string(n) + "-broken.xml";
    text = camt053_statement(seed, n);
    text.resize(text.size() / 2);
  } else {
    error = "format must be camt053, mt940 or malformed";
    return "";
  }
  fs::path tmp = fs::path(dir) / ("." + name + ".part"), to = fs::path(dir) / name;
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out.flush()) {
      error = "cannot write " + tmp.string();
      return "";
    }
  }
  std::error_code ec;
  fs::rename(tmp, to, ec);
  if (ec) {
    error = "cannot write " + to.string() + ": " + ec.message();
    return "";
  }
  return to.string();
}

}  // namespace ledgersync::sandbox
