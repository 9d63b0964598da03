// The typed JSON form of a tuple (docs/TUPLE.md), shared by `aspen tuple
// unpack` and SQL's tuple_unpack(): one JSON array, each element an object
// with exactly one key naming its type ({"int": "12345"}, {"string": "a"},
// {"float": "<8 hex digits>"}, ...). Output is single-line pure ASCII.
//
// A separate target (aspen_tuple_json): it adds nlohmann_json, which the tuple
// layer itself does not need.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "tuple/tuple.h"

namespace aspen::tuple {

// Lowercase hex of `bytes`.
std::string LowerHex(std::string_view bytes);

nlohmann::json ToTypedJson(const Tuple& t);

// ToTypedJson(t) as one line of ASCII (non-ASCII as \uXXXX escapes).
std::string ToTypedJsonText(const Tuple& t);

}  // namespace aspen::tuple
