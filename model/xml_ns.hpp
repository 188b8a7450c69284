// Namespace-aware lookups over pugixml, which itself only sees qualified names: an element is
// matched by its local name and the namespace URI its prefix (or the default xmlns) is bound to
// in scope, so "<Document xmlns=...>" and "<camt:Document xmlns:camt=...>" read the same.
// Only for model/*.cpp: keeps pugixml out of widely included headers.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace ledgersync::model::xml {

std::string_view local_name(const pugi::xml_node& n);
// The URI bound to the element's prefix in scope; empty when none.
std::string ns_uri(const pugi::xml_node& n);
// First child element with this local name in namespace `ns`; empty node when none.
pugi::xml_node child(const pugi::xml_node& n, std::string_view local, std::string_view ns);
std::vector<pugi::xml_node> children(const pugi::xml_node& n, std::string_view local,
                                     std::string_view ns);
// Follows a path of local names ("Tp/CdOrPrtry/Cd"); empty node when any step is missing.
pugi::xml_node path(const pugi::xml_node& n, std::string_view slash_path, std::string_view ns);
// Trimmed text content of the element at `slash_path`; empty when absent.
std::string text(const pugi::xml_node& n, std::string_view slash_path, std::string_view ns);
// The element exactly as pugixml writes it back (no indentation): the raw record.
std::string outer_xml(const pugi::xml_node& n);
// Parses `xml` into `doc`; the error names the offset and what pugixml found.
std::string load(pugi::xml_document& doc, std::string_view xml);

}  // namespace ledgersync::model::xml
