// etcdctl's txn grammar, parsed into an etcd TxnRequest.
//
// Input: three sections, each ended by an empty line (or the end of input):
//   compares          value("k") = "v"   mod("k") > "3"   create("k") = "0"
//                     version("k") != "2"   lease("k") = "694d7c6a2b8e1a04"
//   success requests  put k "v" [--lease=HEX] [--prev-kv] [--ignore-value] [--ignore-lease]
//   failure requests  get k [END] [--prefix|--from-key] [--limit=N] [--rev=N] [--keys-only]
//                       [--count-only];  del k [END] [--prefix|--from-key] [--prev-kv]
// Compare targets: value|val, mod|m, create|c, version|ver, lease (hex ID, as
// every aspen command shows lease IDs); operators = == != < >. Keys and values
// are Go-quoted strings ("a\x00b", `raw`); request arguments may be bare words,
// "double-quoted" (Go escapes) or 'single-quoted' (no escapes). Flags take
// --flag=value or --flag value.
#pragma once

#include <cstddef>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "etcdserverpb/kv.pb.h"

namespace aspen::cli {

// Bounds on txn input (each a clear InvalidArgument when crossed).
inline constexpr std::size_t kMaxTxnInputBytes = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxTxnLineBytes = 2 * 1024 * 1024;

// Unquotes a Go string literal ("..." with escapes, or `...`), the whole of text.
Result<std::string> UnquoteGo(std::string_view text);

// Splits a request line like etcdctl: bare words, "Go-quoted", 'single-quoted'.
// *quoted (when given) says for each argument whether it was quoted: a quoted
// argument is a key or value even when it starts with "--".
Result<std::vector<std::string>> SplitArgs(std::string_view line,
                                           std::vector<bool>* quoted = nullptr);

Result<etcdserverpb::Compare> ParseCompare(std::string_view line);
Result<etcdserverpb::RequestOp> ParseRequestOp(std::string_view line);

// Reads the three sections from in. When prompts is non-null, writes etcdctl's
// prompts ("compares:", "success requests (get, put, del):", "failure requests
// (get, put, del):") before each section. Errors name the line number. Reads
// at most kMaxTxnLineBytes + 1 bytes of a line before refusing it.
Result<etcdserverpb::TxnRequest> ReadTxn(std::istream& in, std::ostream* prompts);

}  // namespace aspen::cli
