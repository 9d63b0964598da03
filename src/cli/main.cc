// The `aspen` binary: server and command-line client in one.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"

int main(int argc, char** argv) {
  CLI::App app{"aspen: a Raft-replicated key-value store with the etcd v3 API and SQL"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "aspen 0.1.0");
  int exit_code = 0;
  aspen::cli::RegisterTupleCommands(app, &exit_code);
  aspen::cli::RegisterBenchCommands(app, &exit_code);
  aspen::cli::RegisterKvCommands(app, &exit_code);
  aspen::cli::RegisterServeCommands(app, &exit_code);
  aspen::cli::RegisterTxnCommands(app, &exit_code);
  aspen::cli::RegisterLeaseCommands(app, &exit_code);
  aspen::cli::RegisterClusterCommands(app, &exit_code);
  aspen::cli::RegisterSqlCommands(app, &exit_code);
  aspen::cli::RegisterWatchCommands(app, &exit_code);
  aspen::cli::RegisterMemberCommands(app, &exit_code);
  aspen::cli::RegisterSnapshotCommands(app, &exit_code);
  aspen::cli::RegisterMaintCommands(app, &exit_code);
  aspen::cli::AddHelpCommand(app);
  aspen::cli::AddGlobalFlags(app);  // after every command: they go where commands take them
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 1 (cli/common.h's scheme); --help and --version exit 0.
    return aspen::cli::ReportParseError(app, e);
  }
  return exit_code;
}
