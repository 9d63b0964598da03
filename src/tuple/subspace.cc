#include "tuple/subspace.h"

namespace aspen::tuple {

Result<std::string> Strinc(std::string_view prefix) {
  std::size_t n = prefix.size();
  while (n > 0 && static_cast<unsigned char>(prefix[n - 1]) == 0xff) --n;
  if (n == 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "key must contain at least one byte other than 0xff to have a successor "
                 "prefix");
  }
  std::string out(prefix.substr(0, n));
  out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

Subspace::Subspace(const Tuple& t, std::string_view raw_prefix) : prefix_(raw_prefix) {
  t.PackTo(&prefix_);
}

Subspace Subspace::Sub(const Tuple& t) const {
  return Subspace(t, prefix_);
}

std::string Subspace::Pack(const Tuple& t) const {
  std::string out = prefix_;
  t.PackTo(&out);
  return out;
}

bool Subspace::Contains(std::string_view key) const {
  return key.starts_with(prefix_);
}

Result<Tuple> Subspace::Unpack(std::string_view key) const {
  if (!Contains(key)) {
    return Error(ErrorCode::kNotInSubspace, "key (" + std::to_string(key.size()) +
                                                " bytes) does not start with the subspace "
                                                "prefix (" +
                                                std::to_string(prefix_.size()) + " bytes)");
  }
  return Tuple::Unpack(key.substr(prefix_.size()));
}

std::pair<std::string, std::string> Subspace::Range(const Tuple& t) const {
  std::string begin = Pack(t);
  std::string end = begin;
  begin.push_back('\x00');
  end.push_back('\xff');
  return {std::move(begin), std::move(end)};
}

}  // namespace aspen::tuple
