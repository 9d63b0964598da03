#include "base/status.h"

#include <gtest/gtest.h>

namespace aspen {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ToStringNamesCodeAndMessage) {
  Status s = Status::ResourceExhausted("key is 9000 bytes, limit is 8192 (key size)");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.ToString(), "ResourceExhausted: key is 9000 bytes, limit is 8192 (key size)");
}

TEST(Result, HoldsValueOrError) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  Result<int> e = Status::NotFound("no such key");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> e = Status::NotFound("x");
  EXPECT_DEATH((void)e.value(), "assertion failed");
}

}  // namespace
}  // namespace aspen
