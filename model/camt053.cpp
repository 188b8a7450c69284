#include "model/camt053.hpp"

#include "model/currency.hpp"
#include "model/dates.hpp"
#include "model/xml_ns.hpp"

namespace ledgersync::model {
namespace {

using pugi::xml_node;
using out = result<std::vector<canonical_record>>;
constexpr std::string_view ns_prefix = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";

struct reader {
  std::string ns;

  std::string text(const xml_node& n, std::string_view p) const { return xml::text(n, p, ns); }
  xml_node at(const xml_node& n, std::string_view p) const { return xml::path(n, p, ns); }

  // Dt or DtTm under `n`, as a date ("" when neither).
  result<std::string> date(const xml_node& n) const {
    std::string d = text(n, "Dt");
    if (d.empty()) d = text(n, "DtTm");
    if (d.empty()) return result<std::string>::bad("has neither Dt nor DtTm");
    return normalize_date(d);
  }

  // Amt with its Ccy, signed by CdtDbtInd.
  result<std::pair<std::string, std::string>> amount(const xml_node& n) const {
    using r = result<std::pair<std::string, std::string>>;
    xml_node amt = at(n, "Amt");
    if (!amt) return r::bad("Amt is missing");
    std::string ccy = amt.attribute("Ccy").value();
    auto c = normalize_currency(ccy);
    if (!c.ok()) return r::bad("Amt Ccy: " + c.error);
    auto a = parse_amount(text(n, "Amt"), *c);
    if (!a.ok()) return r::bad("Amt: " + a.error);
    if (a->negative()) return r::bad("Amt is negative (the sign belongs in CdtDbtInd)");
    std::string ind = text(n, "CdtDbtInd");
    if (ind != "CRDT" && ind != "DBIT") {
      return r::bad("CdtDbtInd " + quote_text(ind) + " is neither CRDT nor DBIT");
    }
    return r::good({*c, (ind == "DBIT" ? -*a : *a).to_string()});
  }
};

std::string balance_type(const std::string& code) {
  if (code == "OPBD" || code == "PRCD") return "opening";  // many banks send PRCD for opening
  if (code == "CLBD") return "closing";
  if (code == "ITBD") return "interim_closing";
  if (code == "CLAV" || code == "ITAV" || code == "OPAV") return "available";
  if (code == "FWAV") return "forward_available";
  return "other";
}

std::string entry_status(const std::string& code) {
  if (code == "BOOK") return "booked";
  if (code == "PDNG" || code == "FUTR") return "pending";
  if (code == "INFO") return "info";
  return {};
}

// The remittance texts of all TxDtls (a batch booking has many), joined.
std::string remittance(const reader& rd, const xml_node& ntry) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += "; ";
    out += s;
  };
  for (auto dtls : xml::children(ntry, "NtryDtls", rd.ns)) {
    for (auto tx : xml::children(dtls, "TxDtls", rd.ns)) {
      xml_node rmt = rd.at(tx, "RmtInf");
      for (auto u : xml::children(rmt, "Ustrd", rd.ns)) add(rd.text(u, ""));
      for (auto s : xml::children(rmt, "Strd", rd.ns)) add(rd.text(s, "CdtrRefInf/Ref"));
    }
  }
  if (out.empty()) out = rd.text(ntry, "AddtlNtryInf");
  return out;
}

// The other side: the debtor of a credit, the creditor of a debit (Nm directly under the party
// in .02, under Pty from .08).
std::string counterparty(const reader& rd, const xml_node& tx, bool credit) {
  const char* who = credit ? "RltdPties/Dbtr" : "RltdPties/Cdtr";
  xml_node party = rd.at(tx, who);
  std::string name = rd.text(party, "Nm");
  if (name.empty()) name = rd.text(party, "Pty/Nm");
  return name;
}

result<canonical_record> map_entry(const reader& rd, const xml_node& ntry,
                                   const std::string& account, const std::string& stmt_id,
                                   size_t index) {
  using r = result<canonical_record>;
  canonical_record rec;
  rec.entity = "bank_transaction";
  rec.source = "camt053";
  rec.raw = xml::outer_xml(ntry);
  auto amt = rd.amount(ntry);
  if (!amt.ok()) return r::bad(amt.error);
  auto& f = rec.fields;
  f["account"] = account;
  f["currency"] = amt->first;
  f["amount"] = amt->second;
  auto booked = rd.date(rd.at(ntry, "BookgDt"));
  if (!booked.ok()) return r::bad("BookgDt " + booked.error);
  f["booking_date"] = *booked;
  if (xml_node val = rd.at(ntry, "ValDt")) {
    auto v = rd.date(val);
    if (!v.ok()) return r::bad("ValDt " + v.error);
    f["value_date"] = *v;
  }
  std::string sts = rd.text(ntry, "Sts/Cd");
  if (sts.empty()) sts = rd.text(ntry, "Sts");
  std::string status = entry_status(sts);
  if (status.empty()) return r::bad("Sts " + quote_text(sts) + " is not BOOK, PDNG, FUTR or INFO");
  f["status"] = status;
  std::string rvsl = rd.text(ntry, "RvslInd");
  if (!rvsl.empty() && rvsl != "true" && rvsl != "false") {
    return r::bad("RvslInd " + quote_text(rvsl) + " is neither true nor false");
  }
  f["reversal"] = rvsl == "true";
  xml_node tx = rd.at(ntry, "NtryDtls/TxDtls");
  std::string bank_ref = rd.text(ntry, "AcctSvcrRef");
  if (bank_ref.empty()) bank_ref = rd.text(tx, "Refs/AcctSvcrRef");
  if (!bank_ref.empty()) f["bank_reference"] = bank_ref;
  std::string e2e = rd.text(tx, "Refs/EndToEndId");
  if (!e2e.empty() && e2e != "NOTPROVIDED") f["reference"] = e2e;
  std::string text = remittance(rd, ntry);
  if (!text.empty()) f["description"] = text;
  std::string other = counterparty(rd, tx, amt->second[0] != '-');
  if (!other.empty()) f["counterparty"] = other;
  std::string code = rd.text(ntry, "BkTxCd/Domn/Cd");
  if (!code.empty()) {
    code += "/" + rd.text(ntry, "BkTxCd/Domn/Fmly/Cd") + "/" +
            rd.text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd");
  } else {
    code = rd.text(ntry, "BkTxCd/Prtry/Cd");
  }
  if (!code.empty()) f["type_code"] = code;
  rec.id = bank_ref.empty() ? "camt053:" + account + ":" + stmt_id + ":" + std::to_string(index)
                            : "camt053:" + account + ":" + bank_ref;
  f["id"] = rec.id;
  return r::good(std::move(rec));
}

result<canonical_record> map_balance(const reader& rd, const xml_node& bal,
                                     const std::string& account, const std::string& stmt_id) {
  using r = result<canonical_record>;
  canonical_record rec;
  rec.entity = "balance";
  rec.source = "camt053";
  rec.raw = xml::outer_xml(bal);
  std::string code = rd.text(bal, "Tp/CdOrPrtry/Cd");
  if (code.empty()) code = rd.text(bal, "Tp/CdOrPrtry/Prtry");
  if (code.empty()) return r::bad("Tp/CdOrPrtry has no Cd");
  auto amt = rd.amount(bal);
  if (!amt.ok()) return r::bad(amt.error);
  auto day = rd.date(rd.at(bal, "Dt"));
  if (!day.ok()) return r::bad("Dt " + day.error);
  std::string type = balance_type(code);
  rec.id = "camt053:" + account + ":" + (type == "other" ? code : type) + ":" + *day;
  rec.fields = {{"id", rec.id},           {"account", account},     {"type", type},
                {"amount", amt->second},  {"currency", amt->first}, {"date", *day},
                {"statement_id", stmt_id}};
  return r::good(std::move(rec));
}

}  // namespace

result<std::vector<canonical_record>> parse_camt053(std::string_view text) {
  pugi::xml_document doc;
  if (auto err = xml::load(doc, text); !err.empty()) return out::bad("camt.053: " + err);
  xml_node root = doc.document_element();
  reader rd{xml::ns_uri(root)};
  if (xml::local_name(root) != "Document" || !rd.ns.starts_with(ns_prefix)) {
    return out::bad("camt.053: the root is not a camt.053 Document (namespace " +
                    quote_text(rd.ns) + ")");
  }
  xml_node msg = rd.at(root, "BkToCstmrStmt");
  if (!msg) return out::bad("camt.053: BkToCstmrStmt is missing");
  auto stmts = xml::children(msg, "Stmt", rd.ns);
  if (stmts.empty()) return out::bad("camt.053: the message holds no Stmt");
  std::vector<canonical_record> records;
  for (size_t s = 0; s < stmts.size(); ++s) {
    const xml_node& stmt = stmts[s];
    std::string stmt_id = rd.text(stmt, "Id");
    std::string where = "camt.053 statement " + (stmt_id.empty() ? std::to_string(s + 1) : stmt_id);
    if (stmt_id.empty()) return out::bad(where + ": Id is missing");
    std::string account = rd.text(stmt, "Acct/Id/IBAN");
    if (account.empty()) account = rd.text(stmt, "Acct/Id/Othr/Id");
    if (account.empty()) return out::bad(where + ": Acct/Id has neither IBAN nor Othr/Id");
    for (auto bal : xml::children(stmt, "Bal", rd.ns)) {
      auto b = map_balance(rd, bal, account, stmt_id);
      if (!b.ok()) return out::bad(where + ", balance: " + b.error);
      records.push_back(std::move(*b.value));
    }
    auto entries = xml::children(stmt, "Ntry", rd.ns);
    for (size_t i = 0; i < entries.size(); ++i) {
      auto e = map_entry(rd, entries[i], account, stmt_id, i + 1);
      if (!e.ok()) return out::bad(where + ", entry " + std::to_string(i + 1) + ": " + e.error);
      records.push_back(std::move(*e.value));
    }
  }
  for (const auto& r : records) {
    if (auto ps = validate(r); !ps.empty()) {
      return out::bad("camt.053 record " + r.id + ": " + describe(ps));
    }
  }
  return out::good(std::move(records));
}

}  // namespace ledgersync::model
