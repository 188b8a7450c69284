// The webhook commands as cli/main.cpp runs them (add_webhook_commands, then
// run_webhook_commands after parsing), so tests/webhooks.sh checks their output and exit codes
// before the commands are wired into the ledgersync binary.
#include <cstring>

#include "cli/errors.hpp"
#include "cli/webhook_command.hpp"

int main(int argc, char** argv) {
  using namespace ledgersync::cli;
  bool json_errors = false;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--json") == 0) json_errors = true;
  set_json_errors(json_errors);
  CLI::App app("webhook probe");
  app.require_subcommand(1);
  webhook_command hooks;
  add_webhook_commands(app, hooks);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    die(usage, e.what());
  }
  if (auto code = run_webhook_commands(hooks)) return *code;
  return usage;
}
