// Bytes a peer sends on a raft stream after the preface (server/peer_wire.h):
// split into frames, each parsed as a Batch and checked and delivered as the
// peer port does. Nothing may crash, leak or buffer past the frame bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aspen/peer/v1/peer.pb.h"
#include "base/assert.h"
#include "server/peer_service.h"
#include "server/peer_wire.h"

namespace {

class CountingHandler : public aspen::server::PeerHandler {
 public:
  aspen::Status Receive(aspen::raft::pb::Message) override { return aspen::Status::Ok(); }
  aspen::Result<std::int64_t> KeepAlive(std::int64_t) override {
    return aspen::Status::NotFound("lease not found");
  }
  aspen::Result<aspen::node::LeaseStatus> LeaseTimeToLive(std::int64_t) override {
    return aspen::Status::NotFound("lease not found");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static CountingHandler handler;
  static aspen::server::PeerService service(1, 2, &handler);
  constexpr std::size_t kMax = 1u << 16;
  aspen::server::FrameReader reader(kMax);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks how the stream is split into reads.
  const std::size_t chunk = size == 0 ? 1 : 1 + static_cast<unsigned char>(bytes[0]) % 97;
  bool first = true;
  while (!bytes.empty()) {
    reader.Feed(bytes.substr(0, chunk));
    bytes.remove_prefix(std::min(chunk, bytes.size()));
    while (true) {
      aspen::Result<std::optional<std::string>> f = reader.Next();
      if (!f.ok() || !f->has_value()) {
        if (!f.ok()) return 0;  // the stream ends
        break;
      }
      ASPEN_ASSERT((*f)->size() <= kMax);
      aspen::peer::v1::Batch batch;
      if (!batch.ParseFromString(**f)) return 0;
      if (first) {
        first = false;
        if (!service.CheckHello(batch).ok()) return 0;
        continue;
      }
      if (!service.Deliver(&batch).ok()) return 0;
    }
    ASPEN_ASSERT(reader.buffered() <= 2 * (kMax + aspen::server::kFrameHeaderBytes) + chunk);
  }
  return 0;
}
