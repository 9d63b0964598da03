// Each cmd_*.cc file registers its subcommands on the root CLI11 app. A
// subcommand's callback stores its exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

namespace aspen::cli {

void RegisterTupleCommands(CLI::App& app, int* exit_code);
void RegisterBenchCommands(CLI::App& app, int* exit_code);
void RegisterKvCommands(CLI::App& app, int* exit_code);
void RegisterServeCommands(CLI::App& app, int* exit_code);
void RegisterTxnCommands(CLI::App& app, int* exit_code);      // txn, cas
void RegisterLeaseCommands(CLI::App& app, int* exit_code);    // lease ...
void RegisterClusterCommands(CLI::App& app, int* exit_code);  // member list, endpoint ...
void RegisterSqlCommands(CLI::App& app, int* exit_code);
void RegisterWatchCommands(CLI::App& app, int* exit_code);
void RegisterMemberCommands(CLI::App& app, int* exit_code);
void RegisterSnapshotCommands(CLI::App& app, int* exit_code);
void RegisterMaintCommands(CLI::App& app, int* exit_code);

}  // namespace aspen::cli
