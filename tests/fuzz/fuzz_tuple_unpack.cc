// libFuzzer target for tuple::Tuple::Unpack (outside bytes: keys read from
// storage, the wire, the CLI).
//
// Asserted for every input x:
//  1. Unpack(x) either fails with an Error or succeeds; it never crashes or
//     reads out of bounds (ASan/UBSan watch).
//  2. If it succeeds, y = Pack(Unpack(x)) unpacks to an equal tuple, and
//     y == x unless x holds FoundationDB Python's form of +-(2^64-1)
//     (1d 08 ff*8 or 0b f7 00*8), the one non-canonical form Unpack accepts;
//     then y is strictly shorter (each such integer loses its length byte).
//  3. Splitting x in two, when both halves unpack, the byte order of their
//     canonical keys equals the semantic Compare.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tuple/tuple.h"

namespace {

using aspen::tuple::Tuple;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tuple_unpack: property violated: %s\n", what);
    std::abort();
  }
}

bool ContainsPythonUint64Form(std::string_view x) {
  const std::string pos = "\x1d\x08" + std::string(8, '\xff');
  const std::string neg = std::string("\x0b\xf7", 2) + std::string(8, '\0');
  return x.find(pos) != std::string_view::npos || x.find(neg) != std::string_view::npos;
}

int Sign(int c) {
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view x(reinterpret_cast<const char*>(data), size);
  auto t = Tuple::Unpack(x);
  if (t.ok()) {
    const std::string y = t->Pack();
    auto again = Tuple::Unpack(y);
    Check(again.ok(), "Pack output must unpack");
    Check(*again == *t, "unpack(pack(t)) == t");
    Check(again->Pack() == y, "pack is deterministic");
    if (y != x) {
      Check(y.size() < x.size() && ContainsPythonUint64Form(x),
            "pack(unpack(x)) == x for canonical x");
    }
  } else {
    Check(!t.error().message().empty(), "errors carry a message");
  }

  const std::size_t half = size / 2;
  auto a = Tuple::Unpack(x.substr(0, half));
  auto b = Tuple::Unpack(x.substr(half));
  if (a.ok() && b.ok()) {
    Check(Sign(a->Pack().compare(b->Pack())) == Sign(Compare(*a, *b)),
          "byte order of packed keys == semantic order");
  }
  return 0;
}
