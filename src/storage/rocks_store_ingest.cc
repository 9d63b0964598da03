// RocksStore::IngestStateSnapshotSst: a snapshot stream installed through
// SST files, so the state never has to fit in memory (docs/STORAGE.md,
// "Installing a snapshot").
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "storage/rocks_store.h"

namespace aspen::storage {
namespace {

namespace fs = std::filesystem;

Status FromRocksIngest(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

Status InjectedFault(int step) {
  return Status(Code::kAborted,
                "snapshot install: injected fault after step " + std::to_string(step));
}

// The SST files of one column family, written in key order.
struct CfFiles {
  std::unique_ptr<rocksdb::SstFileWriter> writer;  // the open file, if any
  std::vector<std::string> paths;                  // every file, the open one last
  std::uint64_t raw_bytes = 0;                     // keys + values in the open file
};

// A staged file's column family, from its name "<cf>-<n>.sst".
std::optional<Cf> StagedFileCf(const std::string& name) {
  const std::size_t dash = name.rfind('-');
  if (dash == std::string::npos || !name.ends_with(".sst")) return std::nullopt;
  const std::string_view cf_name = std::string_view(name).substr(0, dash);
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    if (kCfNames[i] == cf_name) return static_cast<Cf>(i);
  }
  return std::nullopt;
}

// The staged files' names survive a power loss once their dir is synced.
Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + dir + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("fsync " + dir + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace

std::string RocksStore::IngestStagingDir() const {
  return (fs::path(dir_).parent_path() / "snapshot-ingest").string();
}

Result<SnapshotSummary> RocksStore::IngestStateSnapshotSst(ByteSource* source,
                                                           const SstIngestOptions& options) {
  ASPEN_ASSERT(source != nullptr);
  // One pass: the rows go into staging files while every check of the
  // stream runs, and the store is touched only after the last check passed
  // (a separate verification pass would read and hash the stream twice).

  // The old rows to drop (and the emptiness check) come first: a refused
  // install writes nothing.
  WriteBatch drop;
  ASPEN_RETURN_IF_ERROR(AddStateDrop(this, options.replace_existing, &drop));

  // Step 1: the rows go into SST files in a fresh staging dir.
  const std::string staging = IngestStagingDir();
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (ec) return Status::IOError("cannot clear " + staging + ": " + ec.message());
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging + ": " + ec.message());

  std::map<Cf, CfFiles> files;
  std::size_t next_file = 0;
  auto finish = [&](CfFiles* f) -> Status {
    if (!f->writer) return Status::Ok();
    rocksdb::Status s = f->writer->Finish();
    f->writer.reset();
    return FromRocksIngest(s, "finish " + f->paths.back());
  };
  Result<SnapshotSummary> written = ReadStateSnapshotRows(
      source, [&](Cf cf, std::string_view key, std::string_view value) -> Status {
        CfFiles& f = files[cf];
        // Counted before compression: a writer keeps every key's filter hash
        // and every block's index entry until Finish, so the rows per file,
        // not the compressed size, bound its memory.
        if (f.writer && (f.raw_bytes >= options.max_sst_bytes ||
                         f.writer->FileSize() >= options.max_sst_bytes)) {
          ASPEN_RETURN_IF_ERROR(finish(&f));
          f.raw_bytes = 0;
        }
        f.raw_bytes += key.size() + value.size();
        if (!f.writer) {
          rocksdb::ColumnFamilyHandle* h = handles_[static_cast<std::size_t>(cf)];
          const rocksdb::Options cf_options(db_->GetDBOptions(), db_->GetOptions(h));
          f.writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), cf_options, h);
          f.paths.push_back(staging + "/" + std::string(CfName(cf)) + "-" +
                            std::to_string(next_file++) + ".sst");
          ASPEN_RETURN_IF_ERROR(
              FromRocksIngest(f.writer->Open(f.paths.back()), "create " + f.paths.back()));
        }
        return FromRocksIngest(f.writer->Put(rocksdb::Slice(key.data(), key.size()),
                                             rocksdb::Slice(value.data(), value.size())),
                               "write " + f.paths.back());
      });
  for (auto& [cf, f] : files) {
    Status s = finish(&f);
    if (written.ok() && !s.ok()) written = s;
  }
  if (!written.ok()) {
    fs::remove_all(staging, ec);
    return written.status();  // nothing of the store was touched
  }
  // Every staged file is complete and synced (SstFileWriter::Finish); their
  // names too before the marker promises them to ResumeStagedIngest.
  if (Status s = SyncDir(staging); !s.ok()) {
    fs::remove_all(staging, ec);
    return s;
  }
  if (options.fail_after_step == 1) return InjectedFault(1);

  // Step 2: the marker (with the snapshot index, or the caller's value) and
  // the drop of the old state, in one synced batch: from here a restart sees
  // IngestIncomplete.
  drop.Put(Cf::kRaftState, kIngestMarkerKey,
           options.marker.empty() ? std::to_string(written->header.applied_index) : options.marker);
  ASPEN_RETURN_IF_ERROR(Write(drop, /*sync=*/true));
  if (options.fail_after_step == 2) return InjectedFault(2);

  // Step 3: every file of every CF in one atomic ingestion (files are moved,
  // not copied; the new rows sit above the range deletions).
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (auto& [cf, f] : files) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = handles_[static_cast<std::size_t>(cf)];
    arg.external_files = f.paths;
    arg.options.move_files = true;
    arg.options.snapshot_consistency = true;
    args.push_back(std::move(arg));
  }
  if (!args.empty()) {
    ASPEN_RETURN_IF_ERROR(
        FromRocksIngest(db_->IngestExternalFiles(args), "ingest snapshot files from " + staging));
  }
  if (options.fail_after_step == 3) return InjectedFault(3);

  // Step 4: done. Ingested files are durable when IngestExternalFiles
  // returns (RocksDB syncs them and the manifest).
  if (!options.keep_marker) {
    WriteBatch done;
    done.Delete(Cf::kRaftState, kIngestMarkerKey);
    ASPEN_RETURN_IF_ERROR(Write(done, /*sync=*/true));
  }
  fs::remove_all(staging, ec);  // only empty files or none are left
  return written;
}

Status RocksStore::ResumeStagedIngest(bool already_ingested) {
  const std::string staging = IngestStagingDir();
  std::error_code ec;
  if (already_ingested) {
    fs::remove_all(staging, ec);  // files RocksDB had not unlinked yet, if any
    return Status::Ok();
  }
  std::map<Cf, std::vector<std::string>> files;
  for (auto it = fs::directory_iterator(staging, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::optional<Cf> cf = StagedFileCf(name);
    if (!cf || !IsStateCf(*cf)) {
      return Status::Corruption("snapshot ingest: unexpected file " + it->path().string() +
                                " in the staging dir");
    }
    files[*cf].push_back(it->path().string());
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot list " + staging + ": " + ec.message());
  }
  if (files.empty()) {
    return Status::FailedPrecondition("snapshot ingest: no staged files in " + staging +
                                      " to finish the interrupted install with");
  }
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (auto& [cf, paths] : files) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = handles_[static_cast<std::size_t>(cf)];
    arg.external_files = std::move(paths);
    arg.options.move_files = true;
    arg.options.snapshot_consistency = true;
    args.push_back(std::move(arg));
  }
  ASPEN_RETURN_IF_ERROR(FromRocksIngest(db_->IngestExternalFiles(args),
                                        "ingest staged snapshot files from " + staging));
  fs::remove_all(staging, ec);
  return Status::Ok();
}

}  // namespace aspen::storage
