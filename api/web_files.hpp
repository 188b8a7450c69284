// The Integrations page's files (web/), compiled into the binary by cmake/embed_web.cmake so
// the service needs nothing beside it to serve the page. Keyed by URL path ("/" is index.html).
#pragma once

#include <map>
#include <string>

#include "api/http_server.hpp"

namespace ledgersync::api {

std::map<std::string, static_file> web_files();

}  // namespace ledgersync::api
