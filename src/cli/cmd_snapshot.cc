// `aspen snapshot save|status|restore`: backups of a running member and new
// clusters from them (docs/OPERATIONS.md, "Backups and restores").
//
//   save FILE     Maintenance.Snapshot of one endpoint into FILE (FILE.part
//                 until complete and verified); a progress bar on a terminal.
//   status FILE   verifies FILE and prints its hash, revision, keys and size
//                 (-o json adds the applied index and term, the cluster id
//                 and the rows of every column family).
//   restore FILE  builds a new member's data dir (server/maintenance_restore.h).
// Exit codes (common.h): 0 success, 1 error (bad flags, a corrupt file, a
// refused request), 3 unavailable.
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/maint_util.h"
#include "server/maintenance_restore.h"
#include "storage/snapshot.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct SnapshotFlags {
  ClientFlags common;
  std::string file;
  server::ServeConfig restore;
  std::string initial_advertise_peer_urls;
};

std::uint32_t Hash32(const storage::SnapshotSummary& s) {
  return (std::uint32_t{s.sha256[0]} << 24) | (std::uint32_t{s.sha256[1]} << 16) |
         (std::uint32_t{s.sha256[2]} << 8) | std::uint32_t{s.sha256[3]};
}

int RunSave(const SnapshotFlags& f) {
  Result<client::ClientOptions> opts = maint::Options(f.common);
  if (!opts.ok()) return UsageError("snapshot save", opts.status().message());
  const std::vector<std::string>* endpoints = &opts->endpoints;
  if (endpoints->size() != 1) {
    return UsageError("snapshot save", "a snapshot is taken from one endpoint, not " +
                                           std::to_string(endpoints->size()) +
                                           " (give one --endpoints)");
  }
  auto stub = maint::Stub((*endpoints)[0]);
  grpc::ClientContext ctx;
  auto reader = stub->Snapshot(&ctx, pb::SnapshotRequest());
  Result<std::unique_ptr<storage::FileSink>> sink = storage::FileSink::Create(f.file);
  if (!sink.ok()) return Fail("snapshot save", sink.status());
  maint::Progress progress("snapshot " + (*endpoints)[0]);
  pb::SnapshotResponse msg;
  std::uint64_t received = 0;
  while (reader->Read(&msg)) {
    if (Status s = (*sink)->Append(msg.blob()); !s.ok()) {
      ctx.TryCancel();
      return Fail("snapshot save", s);
    }
    received += msg.blob().size();
    progress.Update(received, received + msg.remaining_bytes());
  }
  progress.Done();
  grpc::Status st = reader->Finish();
  if (!st.ok()) return maint::FailGrpc("snapshot save", "", st);
  if (Status s = (*sink)->Finish(); !s.ok()) return Fail("snapshot save", s);
  Result<std::unique_ptr<storage::FileSource>> src = storage::FileSource::Open(f.file);
  Result<storage::SnapshotSummary> verified = src.ok()
                                                  ? storage::VerifyStateSnapshot(src->get())
                                                  : Result<storage::SnapshotSummary>(src.status());
  if (!verified.ok()) {
    std::error_code ec;
    std::filesystem::remove(f.file, ec);
    return Fail("snapshot save", Status::Corruption("the received snapshot failed verification: " +
                                                    verified.status().message()));
  }
  std::cout << "Snapshot saved at " << f.file << "\n";
  return 0;
}

int RunStatus(const SnapshotFlags& f) {
  Result<std::unique_ptr<storage::FileSource>> src = storage::FileSource::Open(f.file);
  if (!src.ok()) return Fail("snapshot status", src.status());
  Result<storage::SnapshotSummary> s = storage::VerifyStateSnapshot(src->get());
  if (!s.ok()) return Fail("snapshot status", s.status());
  const std::uint64_t keys = s->rows_per_cf.count("kv") ? s->rows_per_cf.at("kv") : 0;
  if (f.common.output == "json") {
    Json rows = Json::object();
    for (const auto& [cf, n] : s->rows_per_cf) rows[cf] = n;
    Json j = {{"hash", Hash32(*s)},
              {"revision", s->header.revision},
              {"totalKey", keys},
              {"totalSize", s->file_bytes},
              {"appliedIndex", s->header.applied_index},
              {"appliedTerm", s->header.applied_term},
              {"clusterID", Hex(s->header.cluster_id)},
              {"memberID", Hex(s->header.member_id)},
              {"rowsPerColumnFamily", rows}};
    std::cout << j.dump() << "\n";
    return 0;
  }
  if (f.common.output != "table") return UsageError("snapshot status", "-o must be table or json");
  const std::string hash = Hex(Hash32(*s), 8);
  const std::string rev = std::to_string(s->header.revision);
  const std::string total = std::to_string(keys);
  const std::string size = maint::HumanBytes(s->file_bytes);
  auto cell = [](const std::string& v, std::size_t w) {
    return " " + std::string(w - v.size(), ' ') + v + " |";
  };
  const std::size_t w1 = std::max<std::size_t>(8, hash.size());
  const std::size_t w2 = std::max<std::size_t>(8, rev.size());
  const std::size_t w3 = std::max<std::size_t>(10, total.size());
  const std::size_t w4 = std::max<std::size_t>(10, size.size());
  const std::string line = "+" + std::string(w1 + 2, '-') + "+" + std::string(w2 + 2, '-') + "+" +
                           std::string(w3 + 2, '-') + "+" + std::string(w4 + 2, '-') + "+";
  std::cout << line << "\n|" << cell("HASH", w1) << cell("REVISION", w2) << cell("TOTAL KEYS", w3)
            << cell("TOTAL SIZE", w4) << "\n"
            << line << "\n|" << cell(hash, w1) << cell(rev, w2) << cell(total, w3) << cell(size, w4)
            << "\n"
            << line << "\n";
  return 0;
}

int RunRestore(const SnapshotFlags& f) {
  server::ServeConfig c = f.restore;
  if (!f.initial_advertise_peer_urls.empty()) {
    c.initial_advertise_peer_urls = server::SplitList(f.initial_advertise_peer_urls);
    c.listen_peer_urls = c.initial_advertise_peer_urls;
  }
  if (c.data_dir.empty()) c.data_dir = c.name + ".aspen";
  Result<server::RestoreReport> r = server::RestoreSnapshot(f.file, c);
  if (!r.ok()) return Fail("snapshot restore", r.status());
  std::cout << "Restored snapshot " << f.file << " (revision " << r->snapshot.header.revision
            << ", " << (r->snapshot.rows_per_cf.count("kv") ? r->snapshot.rows_per_cf.at("kv") : 0)
            << " keys, applied index " << r->snapshot.header.applied_index << ") into "
            << c.data_dir << " as member " << c.name << " (" << server::HexId(r->identity.member_id)
            << ") of new cluster " << server::HexId(r->identity.cluster_id) << "\n";
  return 0;
}

}  // namespace

void RegisterSnapshotCommands(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("snapshot", "Back up a member and restore clusters");
  cmd->require_subcommand(1);

  auto save = std::make_shared<SnapshotFlags>();
  CLI::App* save_cmd = cmd->add_subcommand("save", "Stream a member's backup into FILE");
  save_cmd->add_option("file", save->file, "Output file")->required();
  AddClientFlags(save_cmd, save->common);
  save_cmd->callback([save, exit_code] { *exit_code = RunSave(*save); });

  auto status = std::make_shared<SnapshotFlags>();
  CLI::App* status_cmd = cmd->add_subcommand("status", "Verify FILE and print what it holds");
  status_cmd->add_option("file", status->file, "Snapshot file")->required();
  AddOutputFlag(status_cmd, status->common.output);
  status_cmd->callback([status, exit_code] { *exit_code = RunStatus(*status); });

  auto restore = std::make_shared<SnapshotFlags>();
  CLI::App* restore_cmd =
      cmd->add_subcommand("restore", "Build a new cluster member's data dir from FILE");
  restore_cmd->add_option("file", restore->file, "Snapshot file")->required();
  restore_cmd->add_option("--data-dir", restore->restore.data_dir,
                          "New data dir (default: <name>.aspen); must not exist or be empty");
  restore_cmd->add_option("--name", restore->restore.name, "This member's name")
      ->capture_default_str();
  restore_cmd->add_option("--initial-cluster", restore->restore.initial_cluster,
                          "The new cluster: name=peer-url,...");
  restore_cmd->add_option("--initial-advertise-peer-urls", restore->initial_advertise_peer_urls,
                          "This member's peer URLs (default: http://127.0.0.1:2380)");
  restore_cmd
      ->add_option("--initial-cluster-token", restore->restore.initial_cluster_token,
                   "The new cluster's token")
      ->capture_default_str();
  restore->restore.data_dir.clear();
  restore_cmd->callback([restore, exit_code] { *exit_code = RunRestore(*restore); });
}

}  // namespace aspen::cli
