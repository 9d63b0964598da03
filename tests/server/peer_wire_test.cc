// The raft stream's framing (server/peer_wire.h): frames survive any split of
// the byte stream, and an announced length over the bound is refused before
// anything is buffered for it.
#include "server/peer_wire.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace aspen::server {
namespace {

std::string Frame(const std::string& payload) {
  char header[kFrameHeaderBytes];
  EncodeFrameHeader(payload.size(), header);
  return std::string(header, sizeof header) + payload;
}

RC_GTEST_PROP(FrameReaderProperty, FramesComeOutWholeAndInOrderHoweverTheBytesAreSplit,
              (const std::vector<std::string>& payloads)) {
  std::string stream;
  for (const std::string& p : payloads) stream += Frame(p);
  const auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 64));
  FrameReader reader(1u << 20);
  std::vector<std::string> out;
  std::size_t pos = 0, i = 0;
  while (pos < stream.size()) {
    const std::size_t n = cuts.empty() ? stream.size() : cuts[i++ % cuts.size()];
    reader.Feed(std::string_view(stream).substr(pos, n));
    pos += std::min(n, stream.size() - pos);
    while (true) {
      Result<std::optional<std::string>> f = reader.Next();
      RC_ASSERT(f.ok());
      if (!f->has_value()) break;
      out.push_back(std::move(**f));
    }
  }
  RC_ASSERT(out == payloads);
  RC_ASSERT(reader.buffered() == 0u);
}

TEST(FrameReader, OversizedFrameIsRefusedNamingBothSizes) {
  FrameReader reader(100);
  reader.Feed(Frame(std::string(100, 'a')));
  Result<std::optional<std::string>> ok = reader.Next();
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(ok->has_value());
  reader.Feed(Frame(std::string(101, 'b')).substr(0, kFrameHeaderBytes));
  Result<std::optional<std::string>> bad = reader.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kResourceExhausted);
  EXPECT_NE(bad.status().message().find("101"), std::string::npos);
  EXPECT_NE(bad.status().message().find("100"), std::string::npos);
}

TEST(FrameReader, IncompleteFrameWaitsForMoreBytes) {
  FrameReader reader(1000);
  const std::string f = Frame("hello");
  reader.Feed(std::string_view(f).substr(0, 6));
  Result<std::optional<std::string>> none = reader.Next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  reader.Feed(std::string_view(f).substr(6));
  Result<std::optional<std::string>> got = reader.Next();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value_or(""), "hello");
}

TEST(PeerWire, WriteFrameThenReadOneFrameRoundTripsOverASocket) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  const std::string big(3u << 20, 'x');  // larger than the socket buffer
  std::thread writer([&] {
    EXPECT_TRUE(WriteFrame(fds[0], "first").ok());
    EXPECT_TRUE(WriteFrame(fds[0], big).ok());
  });
  FrameReader reader(4u << 20);
  Result<std::string> a = ReadOneFrame(fds[1], &reader, std::chrono::seconds(5));
  Result<std::string> b = ReadOneFrame(fds[1], &reader, std::chrono::seconds(5));
  writer.join();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, "first");
  EXPECT_EQ(*b, big);
  ::close(fds[0]);
  Result<std::string> eof = ReadOneFrame(fds[1], &reader, std::chrono::seconds(5));
  EXPECT_FALSE(eof.ok());
  ::close(fds[1]);
}

TEST(PeerWire, ReadOneFrameGivesUpAfterItsTimeout) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  FrameReader reader(100);
  Result<std::string> r = ReadOneFrame(fds[1], &reader, std::chrono::milliseconds(50));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("timeout"), std::string::npos);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(PeerWire, DialTcpToAClosedPortFailsNamingTheTarget) {
  Result<int> fd = DialTcp("127.0.0.1:1", std::chrono::milliseconds(500), [] { return false; });
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("127.0.0.1:1"), std::string::npos);
  Result<int> bad = DialTcp("no-port", std::chrono::milliseconds(500), [] { return false; });
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace aspen::server
