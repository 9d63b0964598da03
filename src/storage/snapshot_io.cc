// Byte sinks and sources of snapshot.h: files and strings.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/snapshot.h"

namespace aspen::storage {

namespace {

std::string ErrnoText() {
  return std::strerror(errno);
}

}  // namespace

Status StringSource::Read(std::size_t n, std::string* out) {
  if (data_.size() - pos_ < n) {
    return Status::OutOfRange("read of " + std::to_string(n) + " bytes past the end");
  }
  out->assign(data_, pos_, n);
  pos_ += n;
  return Status::Ok();
}

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  const std::string part = path + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + part + ": " + ErrnoText());
  return std::unique_ptr<FileSink>(new FileSink(path, fd));
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink((path_ + ".part").c_str());
}

Status FileSink::Append(std::string_view bytes) {
  ASPEN_ASSERT(!finished_ && fd_ >= 0);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot write " + path_ + ".part: " + ErrnoText());
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status FileSink::Finish() {
  ASPEN_ASSERT(!finished_ && fd_ >= 0);
  if (::fsync(fd_) != 0) return Status::IOError("cannot fsync " + path_ + ".part: " + ErrnoText());
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Status::IOError("cannot close " + path_ + ".part: " + ErrnoText());
  if (::rename((path_ + ".part").c_str(), path_.c_str()) != 0) {
    return Status::IOError("cannot rename " + path_ + ".part to " + path_ + ": " + ErrnoText());
  }
  finished_ = true;
  return Status::Ok();
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(path + " is a directory, not a snapshot file");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return Status::NotFound("snapshot file " + path + " does not exist");
    return Status::IOError("cannot open " + path + ": " + ErrnoText());
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    std::fclose(f);
    return Status::IOError("cannot stat " + path + ": " + ec.message());
  }
  return std::unique_ptr<FileSource>(new FileSource(path, f, size));
}

FileSource::~FileSource() {
  std::fclose(f_);
}

Status FileSource::Read(std::size_t n, std::string* out) {
  out->resize(n);
  const std::size_t got = n == 0 ? 0 : std::fread(out->data(), 1, n, f_);
  if (got != n) {
    if (std::ferror(f_) != 0) return Status::IOError("cannot read " + path_ + ": " + ErrnoText());
    return Status::OutOfRange("read of " + std::to_string(n) + " bytes past the end of " + path_);
  }
  return Status::Ok();
}

Status FileSource::Rewind() {
  if (std::fseek(f_, 0, SEEK_SET) != 0) {
    return Status::IOError("cannot rewind " + path_ + ": " + ErrnoText());
  }
  std::clearerr(f_);
  return Status::Ok();
}

}  // namespace aspen::storage
