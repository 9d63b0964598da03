// The Overlay must read exactly like the store after its batch is written.
#include "sm/view.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "storage/mem_store.h"

namespace aspen::sm {
namespace {

using storage::Cf;

std::vector<std::pair<std::string, std::string>> Drain(ForwardIterator* it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (; it->Valid(); it->Next())
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  EXPECT_TRUE(it->status().ok());
  return out;
}

TEST(Overlay, PendingPutShadowsAndPendingDeleteHides) {
  storage::MemStore store;
  storage::WriteBatch b;
  b.Put(Cf::kKv, "a", "1");
  b.Put(Cf::kKv, "b", "2");
  b.Put(Cf::kKv, "c", "3");
  ASSERT_TRUE(store.Write(b, false).ok());
  auto snap = store.GetSnapshot();
  SnapshotView base(snap.get());
  Overlay ov(&base);
  ov.Put(Cf::kKv, "b", "20");
  ov.Delete(Cf::kKv, "c");
  ov.Put(Cf::kKv, "d", "4");
  auto it = ov.Scan(Cf::kKv, "", std::nullopt);
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(Drain(it.get()), (std::vector<P>{{"a", "1"}, {"b", "20"}, {"d", "4"}}));
  std::string v;
  EXPECT_EQ(ov.Get(Cf::kKv, "c", &v).code(), Code::kNotFound);
  ASSERT_TRUE(ov.Get(Cf::kKv, "b", &v).ok());
  EXPECT_EQ(v, "20");
  EXPECT_EQ(ov.batch().count(), 3u);
}

RC_GTEST_PROP(Overlay, ScanEqualsStoreAfterWritingTheBatch, ()) {
  const auto keygen = rc::gen::elementOf(
      std::vector<std::string>{"", "a", "b", std::string(1, '\0'), std::string("a\0", 2), "ab",
                               std::string("b\0", 2), "ba", "bb"});
  storage::MemStore store;
  storage::WriteBatch initial;
  for (const std::string& k : *rc::gen::container<std::vector<std::string>>(keygen)) {
    initial.Put(Cf::kKv, k, "base" + k);
  }
  RC_ASSERT(store.Write(initial, false).ok());
  auto snap = store.GetSnapshot();
  SnapshotView base(snap.get());
  Overlay ov(&base);
  const int n = *rc::gen::inRange(0, 20);
  for (int i = 0; i < n; ++i) {
    const std::string k = *keygen;
    if (*rc::gen::arbitrary<bool>()) {
      ov.Put(Cf::kKv, k, "new" + std::to_string(i));
    } else {
      ov.Delete(Cf::kKv, k);
    }
  }
  RC_ASSERT(store.Write(ov.batch(), false).ok());
  auto after = store.GetSnapshot();
  SnapshotView written(after.get());
  const std::string lower = *keygen;
  std::optional<std::string> upper;
  if (*rc::gen::arbitrary<bool>()) upper = *keygen;
  std::optional<std::string_view> up;
  if (upper) up = *upper;
  auto a = ov.Scan(Cf::kKv, lower, up);
  auto b = written.Scan(Cf::kKv, lower, up);
  RC_ASSERT(Drain(a.get()) == Drain(b.get()));
}

}  // namespace
}  // namespace aspen::sm
