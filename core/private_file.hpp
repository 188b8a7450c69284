// Writes a small file that only its owner may read (mode 0600), replacing it atomically: a temp
// file beside it, fsync, rename, and an fsync of the directory so the rename itself survives a
// crash. A reader sees the old file or the new one, never half of either. Used for the data
// dir's small documents: service.json, api_tokens.json, webhooks.json.
#pragma once

#include <string>

namespace ledgersync {

// False, with `error` ("cannot write PATH.tmp.PID: reason"), when any step fails; the temp file
// is then removed and `path` is untouched.
bool write_private_file(const std::string& path, const std::string& text, std::string& error);

}  // namespace ledgersync
