#include "model/xml_ns.hpp"

#include <algorithm>
#include <sstream>

#include "model/utf8.hpp"

namespace ledgersync::model::xml {
namespace {

std::string_view prefix_of(const pugi::xml_node& n) {
  std::string_view name = n.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? std::string_view{} : name.substr(0, colon);
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string ns_uri(const pugi::xml_node& n) {
  std::string attr = "xmlns";
  std::string_view prefix = prefix_of(n);
  if (!prefix.empty()) {
    attr += ':';
    attr.append(prefix);
  }
  for (pugi::xml_node cur = n; cur; cur = cur.parent()) {
    if (cur.type() != pugi::node_element) break;
    if (auto a = cur.attribute(attr.c_str())) return a.value();
  }
  return {};
}

pugi::xml_node child(const pugi::xml_node& n, std::string_view local, std::string_view ns) {
  for (auto c : n.children()) {
    if (c.type() == pugi::node_element && local_name(c) == local && ns_uri(c) == ns) return c;
  }
  return {};
}

std::vector<pugi::xml_node> children(const pugi::xml_node& n, std::string_view local,
                                     std::string_view ns) {
  std::vector<pugi::xml_node> out;
  for (auto c : n.children()) {
    if (c.type() == pugi::node_element && local_name(c) == local && ns_uri(c) == ns) {
      out.push_back(c);
    }
  }
  return out;
}

pugi::xml_node path(const pugi::xml_node& n, std::string_view slash_path, std::string_view ns) {
  pugi::xml_node cur = n;
  size_t pos = 0;
  while (cur && pos <= slash_path.size()) {
    size_t next = slash_path.find('/', pos);
    if (next == std::string_view::npos) next = slash_path.size();
    cur = child(cur, slash_path.substr(pos, next - pos), ns);
    pos = next + 1;
  }
  return cur;
}

std::string text(const pugi::xml_node& n, std::string_view slash_path, std::string_view ns) {
  pugi::xml_node e = slash_path.empty() ? n : path(n, slash_path, ns);
  return e ? trim(e.text().get()) : std::string{};
}

std::string outer_xml(const pugi::xml_node& n) {
  std::ostringstream out;
  n.print(out, "", pugi::format_raw);
  return out.str();
}

std::string load(pugi::xml_document& doc, std::string_view xml) {
  // UTF-8 unless the declaration says ISO-8859-1 (pugixml converts that); bytes that are neither
  // are refused here, since pugixml would pass them through into the records.
  std::string_view head = xml.substr(0, std::min<size_t>(xml.size(), 200));
  bool latin1 = head.starts_with("<?xml") && (head.find("ISO-8859-1") != std::string_view::npos ||
                                              head.find("iso-8859-1") != std::string_view::npos ||
                                              head.find("latin1") != std::string_view::npos);
  if (!latin1) {
    if (size_t bad = invalid_utf8_at(xml); bad != std::string_view::npos) {
      return "not UTF-8 at byte " + std::to_string(bad);
    }
  }
  auto r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default,
                           latin1 ? pugi::encoding_latin1 : pugi::encoding_utf8);
  if (!r) {
    return "not well-formed XML at byte " + std::to_string(r.offset) + ": " + r.description();
  }
  return {};
}

}  // namespace ledgersync::model::xml
