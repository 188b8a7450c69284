// Statement and rate files: camt.053 (.001.02 and .001.08), MT940 and the ECB's rate files map
// to bank_transaction, balance and fx_rate records with stable ids and signed amounts; a file
// delivered twice maps to the same ids; malformed input is one clear error, never part of a
// result.
#include <catch2/catch.hpp>
#include <map>

#include "model/camt053.hpp"
#include "model/ecb_fx.hpp"
#include "model/mt940.hpp"
#include "tests/model_fixtures.hpp"

using namespace ledgersync::model;
using nlohmann::json;

namespace {

std::vector<canonical_record> parsed(const result<std::vector<canonical_record>>& r) {
  INFO(r.error);
  REQUIRE(r.ok());
  return *r;
}

std::map<std::string, canonical_record> by_id(const std::vector<canonical_record>& rs) {
  std::map<std::string, canonical_record> m;
  for (const auto& r : rs) m[r.id] = r;
  return m;
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  REQUIRE(p != std::string::npos);
  s.replace(p, from.size(), to);
}

}  // namespace

TEST_CASE("camt.053.001.02: entries and balances, signed by CdtDbtInd", "[model][camt053]") {
  auto recs = parsed(parse_camt053(read_fixture("camt053/statement-001.02.xml")));
  REQUIRE(recs.size() == 4);
  auto m = by_id(recs);
  const auto& opening = m.at("camt053:DE89370400440532013000:opening:2026-11-23");
  CHECK(opening.fields["amount"] == "12500.00");
  CHECK(opening.fields["statement_id"] == "DE8937040044053201300020261124");
  CHECK(m.at("camt053:DE89370400440532013000:closing:2026-11-24").fields["amount"] == "13387.55");

  const auto& in = m.at("camt053:DE89370400440532013000:2026112400001234");
  CHECK(in.entity == "bank_transaction");
  CHECK(in.fields == json{{"id", "camt053:DE89370400440532013000:2026112400001234"},
                          {"account", "DE89370400440532013000"},
                          {"currency", "EUR"},
                          {"amount", "1200.00"},
                          {"booking_date", "2026-11-24"},
                          {"value_date", "2026-11-24"},
                          {"status", "booked"},
                          {"reversal", false},
                          {"bank_reference", "2026112400001234"},
                          {"reference", "SI-1042"},
                          {"description", "Invoice SI-1042 PO 7781"},
                          {"counterparty", "Acme Widgets Ltd"},
                          {"type_code", "PMNT/RCDT/ESCT"}});
  CHECK(in.raw.starts_with("<Ntry><NtryRef>1</NtryRef>"));
  // The bank's reference from TxDtls when the entry has none; structured remittance.
  const auto& out = m.at("camt053:DE89370400440532013000:2026112400001299");
  CHECK(out.fields["amount"] == "-312.45");
  CHECK(out.fields["description"] == "RF18539007547034");
  CHECK(out.fields["counterparty"] == "Stadtwerke Musterstadt");
  CHECK(out.fields["type_code"] == "NDDT+105");
  CHECK_FALSE(out.fields.contains("reference"));  // NOTPROVIDED
  for (const auto& r : recs) CHECK(validate(r).empty());
}

TEST_CASE("camt.053.001.08: prefixed namespace, Sts/Cd, DtTm, batch, reversal",
          "[model][camt053]") {
  auto recs = parsed(parse_camt053(read_fixture("camt053/statement-001.08.xml")));
  REQUIRE(recs.size() == 4);
  auto m = by_id(recs);
  // A debit balance is negative; DtTm gives the day as written.
  CHECK(m.at("camt053:0235-123456.01:opening:2026-11-24").fields["amount"] == "-250.00");
  const auto& batch = m.at("camt053:0235-123456.01:CH-BATCH-77120");
  CHECK(batch.fields["amount"] == "5000.00");
  CHECK(batch.fields["booking_date"] == "2026-11-24");
  CHECK(batch.fields["description"] == "RE-2026-0815; RE-2026-0816");
  CHECK(batch.fields["counterparty"] == "Berg Optik AG");
  const auto& rv = m.at("camt053:0235-123456.01:CH-RV-0042");
  CHECK(rv.fields["amount"] == "-200.00");
  CHECK(rv.fields["reversal"] == true);
  CHECK(rv.fields["description"] == "Reversal of credit 2026-11-21");
}

TEST_CASE("a statement delivered twice maps to the same ids", "[model][camt053][mt940]") {
  for (const char* f : {"camt053/statement-001.02.xml", "camt053/statement-001.08.xml"}) {
    auto a = parsed(parse_camt053(read_fixture(f)));
    auto b = parsed(parse_camt053(read_fixture(f)));
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].id == b[i].id);
  }
  // An entry without AcctSvcrRef is identified by statement and position.
  std::string xml = read_fixture("camt053/statement-001.02.xml");
  replace(xml, "<AcctSvcrRef>2026112400001234</AcctSvcrRef>", "");
  auto m = by_id(parsed(parse_camt053(xml)));
  CHECK(m.count("camt053:DE89370400440532013000:DE8937040044053201300020261124:1"));
  auto x = parsed(parse_mt940(read_fixture("mt940/statement.sta")));
  auto y = parsed(parse_mt940(read_fixture("mt940/statement.sta")));
  for (size_t i = 0; i < x.size(); ++i) CHECK(x[i].id == y[i].id);
}

TEST_CASE("malformed camt.053 is one clear error", "[model][camt053]") {
  std::string good = read_fixture("camt053/statement-001.02.xml");
  auto err = [&](const std::string& from, const std::string& to) {
    std::string xml = good;
    replace(xml, from, to);
    auto r = parse_camt053(xml);
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.value.has_value());
    return r.error;
  };
  CHECK(err("</Document>", "").starts_with("camt.053: not well-formed XML at byte"));
  CHECK(err("camt.053.001.02", "camt.052.001.02").starts_with("camt.053: the root is not"));
  CHECK(err("<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>",
            "<CdtDbtInd>DEBIT</CdtDbtInd>\n        <Sts>") ==
        "camt.053 statement DE8937040044053201300020261124, entry 2: CdtDbtInd \"DEBIT\" is "
        "neither CRDT nor DBIT");
  CHECK(err("<Amt Ccy=\"EUR\">312.45</Amt>", "<Amt Ccy=\"EUR\">312.456</Amt>") ==
        "camt.053 statement DE8937040044053201300020261124, entry 2: Amt: 312.456 has more "
        "decimal places than EUR allows (2)");
  CHECK(err("<Amt Ccy=\"EUR\">312.45</Amt>", "<Amt Ccy=\"EUR\">-312.45</Amt>")
            .ends_with("Amt is negative (the sign belongs in CdtDbtInd)"));
  CHECK(err("<Amt Ccy=\"EUR\">312.45</Amt>", "<Amt Ccy=\"XXY\">312.45</Amt>")
            .ends_with("Amt Ccy: \"XXY\" is not an ISO 4217 currency code"));
  CHECK(err("<BookgDt><Dt>2026-11-24</Dt></BookgDt>\n        <ValDt><Dt>2026-11-25",
            "<BookgDt><Dt>2026-02-30</Dt></BookgDt>\n        <ValDt><Dt>2026-11-25")
            .ends_with("entry 2: BookgDt \"2026-02-30\" is not a date"));
  CHECK(err("<Sts>BOOK</Sts>", "<Sts>DONE</Sts>")
            .ends_with("Sts \"DONE\" is not BOOK, PDNG, FUTR or INFO"));
  CHECK(err("<IBAN>DE89370400440532013000</IBAN>", "")
            .ends_with("Acct/Id has neither IBAN nor Othr/Id"));
  CHECK(err("Acme Widgets Ltd", "Acme \xff Ltd") == "camt.053: not UTF-8 at byte 1512");
  // A file that says it is ISO-8859-1 is converted.
  std::string latin1 = good;
  replace(latin1, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
  replace(latin1, "Stadtwerke Musterstadt", "Stadtwerke M\xfcnchen");
  auto conv = by_id(parsed(parse_camt053(latin1)));
  CHECK(conv.at("camt053:DE89370400440532013000:2026112400001299").fields["counterparty"] ==
        "Stadtwerke M\xc3\xbcnchen");
  CHECK_FALSE(parse_camt053("").ok());
  CHECK_FALSE(
      parse_camt053("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"/>").ok());
}

TEST_CASE("MT940: statement lines, :86: text, reversals and balances", "[model][mt940]") {
  auto recs = parsed(parse_mt940(read_fixture("mt940/statement.sta")));
  REQUIRE(recs.size() == 6);  // opening, 3 lines, closing, available
  auto m = by_id(recs);
  const auto& a = m.at("mt940:37040044/0532013000:00224/001:1");
  CHECK(a.fields == json{{"id", "mt940:37040044/0532013000:00224/001:1"},
                         {"account", "37040044/0532013000"},
                         {"amount", "1200.00"},
                         {"currency", "EUR"},
                         {"value_date", "2026-11-24"},
                         {"booking_date", "2026-11-24"},
                         {"status", "booked"},
                         {"reversal", false},
                         {"type_code", "NTRF"},
                         {"reference", "SI-1042"},
                         {"bank_reference", "2026112400001234"},
                         {"description", "EREF+SI-1042SVWZ+Invoice SI-1042 PO 7781"},
                         {"counterparty", "Acme Widgets Ltd"}});
  CHECK(a.raw ==
        ":61:2611241124C1200,00NTRFSI-1042//2026112400001234\n"
        ":86:166?00SEPA-GUTSCHRIFT?20EREF+SI-1042?21SVWZ+Invoice SI-1042 P\n?22O 7781?32Acme "
        "Widgets Ltd");
  const auto& b = m.at("mt940:37040044/0532013000:00224/001:2");
  CHECK(b.fields["amount"] == "-312.45");
  CHECK_FALSE(b.fields.contains("reference"));  // NONREF
  CHECK(b.fields["description"] == "Lastschrift Strom");
  const auto& c = m.at("mt940:37040044/0532013000:00224/001:3");
  CHECK(c.fields["amount"] == "-150.00");  // RC: a credit reversed
  CHECK(c.fields["reversal"] == true);
  CHECK(c.fields["description"] == "Reversal of credit from 21 November");
  CHECK(m.at("mt940:37040044/0532013000:opening:2026-11-23").fields["amount"] == "12500.00");
  CHECK(m.at("mt940:37040044/0532013000:closing:2026-11-24").fields["amount"] == "13237.55");
  CHECK(m.at("mt940:37040044/0532013000:available:2026-11-24").fields["amount"] == "13237.55");
  for (const auto& r : recs) CHECK(validate(r).empty());
}

TEST_CASE("MT940 details: RD, entry dates across a year end, bare LF files", "[model][mt940]") {
  std::string sta =
      ":20:X1\n:25:ACC1\n:28C:1/1\n:60M:D261231JPY1000,\n"
      ":61:2701011231RD500,NTRFNONREF\n:61:270101D12,NCHGNONREF//B2\nfees\n:62M:D270101JPY512,\n";
  auto m = by_id(parsed(parse_mt940(sta)));
  const auto& rd = m.at("mt940:ACC1:1/1:1");
  CHECK(rd.fields["amount"] == "500");  // RD: a debit reversed, money back; JPY has no decimals
  CHECK(rd.fields["booking_date"] == "2026-12-31");
  CHECK(rd.fields["value_date"] == "2027-01-01");
  CHECK(m.at("mt940:ACC1:1/1:2").fields["description"] == "fees");
  CHECK(m.at("mt940:ACC1:interim_opening:2026-12-31").fields["amount"] == "-1000");
}

TEST_CASE("malformed MT940 is one clear error naming the line", "[model][mt940]") {
  std::string good = read_fixture("mt940/statement.sta");
  auto err = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    replace(s, from, to);
    auto r = parse_mt940(s);
    CHECK_FALSE(r.ok());
    return r.error;
  };
  CHECK(err("C1200,00NTRF", "C1200.00NTRF") ==
        "MT940 line 6 (:61:): \"1200\" is not an MT940 amount (digits, one decimal comma)");
  CHECK(err("C1200,00NTRF", "X1200,00NTRF") ==
        "MT940 line 6 (:61:): no C, D, RC or RD mark after the dates");
  CHECK(err(":61:2611241124C", ":61:2613241124C") ==
        "MT940 line 6 (:61:): value date 2026-13-24 is not a calendar day");
  CHECK(err(":60F:C261123EUR12500,00", ":60F:C261123EUX12500,00") ==
        "MT940 line 5 (:60F:): \"EUX\" is not an ISO 4217 currency code");
  CHECK(err(":62F:C261124EUR13237,55", ":62X:C261124EUR13237,55").find("no closing balance") !=
        std::string::npos);
  CHECK(err(":28C:00224/001", ":28X:00224/001") ==
        "MT940 statement \"STMT261124\": no statement number (:28C:)");
  CHECK(err(":60F:C261123EUR12500,00", ":60F:C261123EUR12500,001") ==
        "MT940 line 5 (:60F:): 12500.001 has more decimal places than EUR allows (2)");
  CHECK(parse_mt940("").error == "MT940: no statement (:20:) in the file");
  // ISO-8859-1 (what banks write beyond SWIFT's ASCII) comes out as UTF-8.
  std::string latin1 = good;
  replace(latin1, "Lastschrift Strom", "Lastschrift Stadtwerke M\xfcnchen");
  auto m = by_id(parsed(parse_mt940(latin1)));
  CHECK(m.at("mt940:37040044/0532013000:00224/001:2").fields["description"] ==
        "Lastschrift Stadtwerke M\xc3\xbcnchen");
  CHECK(parse_mt940("hello\n:20:X").error ==
        "MT940 line 1: \"hello\" is neither a :tag: nor the continuation of one");
  CHECK(parse_mt940(":25:A\n:20:X").error == "MT940 line 1: the statement must begin with :20:");
}

TEST_CASE("ECB daily and 90-day files: one fx_rate per day and currency", "[model][ecb]") {
  auto daily = parsed(parse_ecb_fx(read_fixture("ecb/eurofxref-daily.xml")));
  REQUIRE(daily.size() == 30);
  CHECK(daily[0].id == "ecb:2026-11-24:EUR:USD");
  CHECK(daily[0].fields == json{{"id", "ecb:2026-11-24:EUR:USD"},
                                {"base", "EUR"},
                                {"quote", "USD"},
                                {"rate", "1.0532"},
                                {"date", "2026-11-24"},
                                {"source", "ecb"}});
  CHECK(daily[0].raw == "<Cube currency=\"USD\" rate=\"1.0532\"/>");
  auto idr = by_id(daily).at("ecb:2026-11-24:EUR:IDR");
  CHECK(idr.fields["rate"] == "16710.36");
  CHECK(by_id(daily).at("ecb:2026-11-24:EUR:SEK").fields["rate"] == "11.5440");  // as published
  for (const auto& r : daily) CHECK(validate(r).empty());

  auto hist = parsed(parse_ecb_fx(read_fixture("ecb/eurofxref-hist-90d.xml")));
  REQUIRE(hist.size() == 9);
  CHECK(by_id(hist).at("ecb:2026-11-20:EUR:GBP").fields["rate"] == "0.83350");

  // Any prefixes: only the namespaces matter.
  std::string renamed =
      "<g:Envelope xmlns:g='http://www.gesmes.org/xml/2002-08-01' "
      "xmlns:e='http://www.ecb.int/vocabulary/2002-08-01/eurofxref'><e:Cube><e:Cube "
      "time='2026-11-24'><e:Cube currency='USD' rate='1.0532'/></e:Cube></e:Cube></g:Envelope>";
  CHECK(parsed(parse_ecb_fx(renamed)).at(0).id == "ecb:2026-11-24:EUR:USD");
}

TEST_CASE("malformed ECB files are one clear error", "[model][ecb]") {
  std::string good = read_fixture("ecb/eurofxref-daily.xml");
  auto err = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    replace(s, from, to);
    auto r = parse_ecb_fx(s);
    CHECK_FALSE(r.ok());
    return r.error;
  };
  CHECK(
      err("rate='1.0532'", "rate='1,0532'") ==
      "ECB rates 2026-11-24: USD rate: \"1,0532\" is not a decimal number (unexpected character)");
  CHECK(err("rate='1.0532'", "rate='-1'") == "ECB rates 2026-11-24: USD rate must be positive");
  CHECK(err("currency='USD'", "currency='US'") ==
        "ECB rates 2026-11-24: currency \"US\" is not an ISO 4217 code");
  CHECK(err("currency='JPY'", "currency='USD'") == "ECB rates 2026-11-24: USD appears twice");
  CHECK(err("time='2026-11-24'", "time='24.11.2026'") ==
        "ECB rates: Cube time \"24.11.2026\" is not a YYYY-MM-DD day");
  CHECK(err("http://www.ecb.int/vocabulary/2002-08-01/eurofxref", "urn:other") ==
        "ECB rates: no Cube in the eurofxref namespace");
  CHECK(err("</gesmes:Envelope>", "").starts_with("ECB rates: not well-formed XML"));
  CHECK(parse_ecb_fx("<a/>").error == "ECB rates: the root is not a gesmes:Envelope");
}
