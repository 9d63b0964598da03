// fsync_floor: the disk's raw latency for a durable append, the floor under
// every synced write of a store (scripts/bench-vs-etcd.sh, docs/BENCHMARKS.md).
//
//   fsync_floor DIR [WRITES] [BYTES]
//
// In a fresh file under DIR (removed at exit), three modes of WRITES writes of
// BYTES bytes each, every write followed by fdatasync; latency is timed around
// write + fdatasync:
//   append      O_APPEND on a growing file (what RocksDB's WAL does)
//   overwrite   the same file rewritten from offset 0 (no size change)
//   prealloc    appends into a file pre-sized with fallocate (etcd's WAL)
// Output: one JSON object per line, latencies in microseconds, percentiles
// exact (the samples are few and sorted once).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr long kMaxWrites = 1'000'000;
constexpr long kMaxBytes = 1 << 20;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fsync_floor: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

long ParseBounded(const char* text, const char* name, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "fsync_floor: %s must be an integer in [%ld, %ld], got '%s'\n", name, lo,
                 hi, text);
    std::exit(1);
  }
  return v;
}

double Percentile(const std::vector<double>& sorted, double p) {
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// Runs one mode on `path`; prints its JSON line.
void Run(const char* mode, const std::string& path, long writes, long bytes) {
  const bool append = std::strcmp(mode, "append") == 0;
  const bool prealloc = std::strcmp(mode, "prealloc") == 0;
  const int flags = O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | (append ? O_APPEND : 0);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) Die("open " + path);
  if (prealloc) {
    const off_t size = static_cast<off_t>(writes) * bytes;
    if (::posix_fallocate(fd, 0, size) != 0) Die("posix_fallocate");
    if (::fsync(fd) != 0) Die("fsync");
  }
  const std::string buf(static_cast<std::size_t>(bytes), 'x');
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(writes));
  for (long i = 0; i < writes; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const off_t at = append ? 0 : (prealloc ? static_cast<off_t>(i) * bytes : 0);
    const ssize_t n =
        append ? ::write(fd, buf.data(), buf.size()) : ::pwrite(fd, buf.data(), buf.size(), at);
    if (n != static_cast<ssize_t>(buf.size())) Die("write");
    if (::fdatasync(fd) != 0) Die("fdatasync");
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  double sum = 0;
  for (double v : us) sum += v;
  std::sort(us.begin(), us.end());
  std::printf(
      "{\"mode\":\"%s\",\"writes\":%ld,\"bytes\":%ld,\"mean_us\":%.1f,\"p50_us\":%.1f,"
      "\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
      mode, writes, bytes, sum / static_cast<double>(us.size()), Percentile(us, 0.5),
      Percentile(us, 0.9), Percentile(us, 0.99), us.back());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: fsync_floor DIR [WRITES (default 1000)] [BYTES (default 128)]\n");
    return 1;
  }
  const long writes = argc > 2 ? ParseBounded(argv[2], "WRITES", 1, kMaxWrites) : 1000;
  const long bytes = argc > 3 ? ParseBounded(argv[3], "BYTES", 1, kMaxBytes) : 128;
  const std::string path = std::string(argv[1]) + "/fsync_floor." + std::to_string(::getpid());
  for (const char* mode : {"append", "overwrite", "prealloc"}) Run(mode, path, writes, bytes);
  return 0;
}
