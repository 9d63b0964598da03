// KeySpace against an independent model of SQLite's comparison of the key
// column (class order NULL < numbers < TEXT < BLOB, then memcmp), and the
// LIKE/GLOB prefix rules.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <string>

#include "sql/key_space.h"
#include "tuple/utf8.h"

namespace aspen::sql {
namespace {

// -1/0/+1 of "stored key" vs operand as SQLite compares them; nullopt for NULL.
std::optional<int> ModelCompare(const std::string& key, bool key_bytes, const KeyOperand& rhs) {
  const int key_rank = (key_bytes || !tuple::IsValidUtf8(key)) ? 3 : 2;
  int rhs_rank = 0;
  switch (rhs.kind) {
    case KeyOperand::kNull: return std::nullopt;
    case KeyOperand::kNumber: rhs_rank = 1; break;
    case KeyOperand::kText: rhs_rank = 2; break;
    case KeyOperand::kBlob: rhs_rank = 3; break;
  }
  if (key_rank != rhs_rank) return key_rank < rhs_rank ? -1 : 1;
  const int c = key.compare(rhs.bytes);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

bool ModelHolds(CmpOp op, std::optional<int> c) {
  if (!c.has_value()) return false;
  switch (op) {
    case CmpOp::kEq: return *c == 0;
    case CmpOp::kGt: return *c > 0;
    case CmpOp::kGe: return *c >= 0;
    case CmpOp::kLt: return *c < 0;
    case CmpOp::kLe: return *c <= 0;
  }
  return false;
}

// Short strings over a few bytes that make valid and invalid UTF-8.
rc::Gen<std::string> ShortBytes() {
  return rc::gen::container<std::string>(
      rc::gen::elementOf(std::vector<char>{'\0', 'a', 'b', '\x7f', '\xc3', '\xa9', '\xff'}));
}

TEST(KeySpace, TextOperandSelectsEveryBlobKeyForGreaterThan) {
  KeySpace s(false);
  s.Apply(CmpOp::kGt, KeyOperand{KeyOperand::kText, "m"});
  EXPECT_TRUE(s.Matches("z"));
  EXPECT_FALSE(s.Matches("a"));
  EXPECT_TRUE(s.Matches("\xff"));  // BLOB > any TEXT
  EXPECT_TRUE(s.Matches(std::string("\x01\xff", 2)));
}

TEST(KeySpace, BlobOperandSelectsEveryTextKeyForLessThan) {
  KeySpace s(false);
  s.Apply(CmpOp::kLt, KeyOperand{KeyOperand::kBlob, std::string("\x00", 1)});
  EXPECT_TRUE(s.Matches("zzz"));
  EXPECT_FALSE(s.Matches("\xff"));
}

TEST(KeySpace, NullOperandMatchesNothing) {
  KeySpace s(false);
  s.Apply(CmpOp::kGe, KeyOperand{});
  EXPECT_TRUE(s.Empty());
}

TEST(KeySpace, KeyBytesColumnIsAlwaysBlob) {
  KeySpace s(true);
  s.Apply(CmpOp::kGe, KeyOperand{KeyOperand::kBlob, "a"});
  s.Apply(CmpOp::kLt, KeyOperand{KeyOperand::kBlob, "b"});
  EXPECT_TRUE(s.Matches("abc"));
  EXPECT_FALSE(s.Matches("b"));
  EXPECT_TRUE(s.range(KeyClass::kText).empty);
}

TEST(KeySpace, PatternPrefixStopsAtTheFirstWildcardOrNul) {
  EXPECT_EQ(PatternPrefix("user/%", false), "user/");
  EXPECT_EQ(PatternPrefix("ab_c%", false), "ab");
  EXPECT_EQ(PatternPrefix("a*b", false), "a*b");  // * is literal in LIKE
  EXPECT_EQ(PatternPrefix("a%b", true), "a%b");   // % is literal in GLOB
  EXPECT_EQ(PatternPrefix("a[b]*", true), "a");
  EXPECT_EQ(PatternPrefix("a?", true), "a");
  EXPECT_EQ(PatternPrefix("ab*", true), "ab");
  EXPECT_EQ(PatternPrefix(std::string("a\0b%", 4), false), "a");
  EXPECT_EQ(PatternPrefix("é%", false), "é");
  EXPECT_EQ(PatternPrefix("%", false), "");
}

TEST(KeySpace, PrefixEndSkipsTrailingFf) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::nullopt);
}

RC_GTEST_PROP(KeySpace, MatchesEqualsSqliteComparisonModel, ()) {
  const bool key_bytes = *rc::gen::arbitrary<bool>();
  const int n = *rc::gen::inRange(0, 4);
  KeySpace space(key_bytes);
  std::vector<std::pair<CmpOp, KeyOperand>> applied;
  for (int i = 0; i < n; ++i) {
    const auto op = static_cast<CmpOp>(*rc::gen::inRange(0, 5));
    KeyOperand rhs;
    rhs.kind = static_cast<KeyOperand::Kind>(*rc::gen::inRange(0, 4));
    if (rhs.kind == KeyOperand::kText || rhs.kind == KeyOperand::kBlob) rhs.bytes = *ShortBytes();
    space.Apply(op, rhs);
    applied.emplace_back(op, rhs);
  }
  const std::string prefix = *rc::gen::oneOf(rc::gen::just(std::string()), ShortBytes());
  space.ApplyPrefix(prefix);
  for (int k = 0; k < 20; ++k) {
    const std::string key = *ShortBytes();
    bool want = key.compare(0, prefix.size(), prefix) == 0;
    for (const auto& [op, rhs] : applied)
      want = want && ModelHolds(op, ModelCompare(key, key_bytes, rhs));
    RC_ASSERT(space.Matches(key) == want);
    // The scan bounds of the key's class contain it whenever it matches.
    if (want) {
      const KeyClass c = key_bytes ? KeyClass::kBlob : ClassOfKey(key);
      const ByteRange& r = space.range(c);
      // Locals: RC_ASSERT keeps references to the operands it decomposes, so
      // a temporary (End() returns by value) would be read after it died. And
      // no `||` inside RC_ASSERT: its captured operands are all evaluated (no
      // short circuit), so `*end` of an empty optional was read (ASan: a
      // heap-use-after-free of an earlier iteration's string, some seeds).
      const std::string begin = r.Begin();
      const std::optional<std::string> end = r.End();
      const bool below_end = !end.has_value() || key < *end;
      RC_ASSERT(key >= begin);
      RC_ASSERT(below_end);
    }
  }
}

}  // namespace
}  // namespace aspen::sql
