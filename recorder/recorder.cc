#include "recorder/recorder.h"

#include <time.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <limits>

#include "base/log.h"
#include "base/status_macros.h"
#include "base/string_recycler.h"
#include "recorder/batch_writer.h"
#include "recorder/redaction.h"
#include "recorder/secret.h"
#include "recorder/sqlite/transaction.h"
#include "recorder/sse_parser.h"
#include "recorder/store.h"
#include "recorder/writer_priority.h"

namespace relaytap::recorder {
namespace {

// The written messages' payload buffers go back to the taps that fill them, so that the next
// message on an io thread reuses one instead of allocating (base/string_recycler.h). A batch
// without messages (the sessions went quiet) releases what the recycler holds. `spent` is the
// writer's scratch vector, empty again on return.
void RecyclePayloads(std::vector<Observation>& batch, std::vector<std::string>& spent) {
  for (Observation& o : batch) {
    if (auto* m = std::get_if<WsMessage>(&o)) spent.push_back(std::move(m->payload));
  }
  if (spent.empty()) return StringRecycler::Process().Release();
  StringRecycler::Process().GiveAll(spent);
}

// Wake the writer early once this many observations wait, and cap one transaction's size. The
// cap also bounds how long the writer goes between looks at its backlog (WriterPriority), so a
// writer at a low priority under contention sees a growing backlog before the queue overflows.
constexpr size_t kWakeItems = 1024;
constexpr size_t kMaxBatchItems = 1024;

std::string HostName() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

// The IANA name if /etc/localtime links into a zoneinfo tree (or $TZ), else the abbreviation.
std::string TimezoneName(const struct tm& local) {
  if (const char* tz = getenv("TZ"); tz != nullptr && *tz != '\0')
    return tz[0] == ':' ? tz + 1 : tz;
  std::error_code ec;
  std::filesystem::path target = std::filesystem::read_symlink("/etc/localtime", ec);
  if (!ec) {
    std::string t = target.string();
    size_t pos = t.find("zoneinfo/");
    if (pos != std::string::npos) return t.substr(pos + 9);
  }
  return local.tm_zone ? local.tm_zone : "";
}

RunInfo MakeRunInfo(const RecorderOptions& options, const Redactor& redactor) {
  RunInfo run;
  run.relaytap_version = options.relaytap_version;
  run.start_us = NowUnixMicros();
  run.hostname = HostName();
  time_t now = static_cast<time_t>(run.start_us / 1000000);
  struct tm local {};
  localtime_r(&now, &local);
  run.timezone = TimezoneName(local);
  run.utc_offset_s = local.tm_gmtoff;
  run.policy_hash = redactor.policy_hash();
  run.durability = options.durability;
  return run;
}

}  // namespace

struct Recorder::Writer {
  std::unique_ptr<Redactor> redactor;
  std::unique_ptr<BatchWriter> batch;
  absl::Status final_status;
};

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Open(RecorderOptions options) {
  if (options.key_dir.empty()) {
    return absl::InvalidArgumentError("recorder: no directory for the redaction key");
  }
  RELAYTAP_ASSIGN_OR_RETURN(std::string key, LoadOrCreateRedactionKey(options.key_dir));
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Redactor> redactor,
                            Redactor::Create(std::move(key), options.redaction_policy_path));
  RELAYTAP_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                            Store::Open(options.db_path, options.durability));
  int64_t run_id = 0;
  {
    sqlite::Transaction tx(store->db());
    RELAYTAP_RETURN_IF_ERROR(tx.Begin());
    RELAYTAP_ASSIGN_OR_RETURN(run_id, store->InsertRun(MakeRunInfo(options, *redactor)));
    RELAYTAP_RETURN_IF_ERROR(tx.Commit());
  }
  return std::unique_ptr<Recorder>(
      new Recorder(std::move(options), std::move(redactor), std::move(store), run_id));
}

Recorder::Recorder(RecorderOptions options, std::unique_ptr<Redactor> redactor,
                   std::unique_ptr<Store> store, int64_t run_id)
    : options_(std::move(options)),
      queue_(options_.queue_max_bytes),
      writer_(std::make_unique<Writer>()),
      priority_(std::make_unique<WriterPriority>(options_.writer_nice_increment)),
      run_id_(run_id) {
  writer_->redactor = std::move(redactor);
  writer_->batch =
      std::make_unique<BatchWriter>(options_.db_path, options_.durability, *writer_->redactor,
                                    std::move(store), run_id, options_.disk);
  writer_->batch->set_before_batch_for_test(options_.before_batch_for_test);
  if (options_.rotation.enabled()) {
    writer_->batch->set_rotation(options_.rotation, MakeRunInfo(options_, *writer_->redactor));
  }
  writer_->batch->set_audio_runs(options_.audio_runs);
  writer_->batch->set_tap(options_.tap);
  thread_ = std::thread([this] {
    priority_->AttachToCurrentThread();
    std::vector<Observation> batch;
    batch.reserve(kMaxBatchItems);
    std::vector<std::string> spent;
    for (;;) {
      batch.clear();
      const int64_t reopen_us = writer_->batch->reopen_due_us();
      const int64_t now_us = NowUnixMicros();
      if (reopen_us > now_us && !closed_.load()) {
        // The store failed and its reopen is not due yet: leave observations in the bounded
        // queue (overflow is counted as usual) rather than lose them in a batch that cannot be
        // written. Returns at the reopen time or at Close().
        (void)queue_.PopBatch(&batch, absl::Now() + absl::Microseconds(reopen_us - now_us),
                              std::numeric_limits<size_t>::max(), 0);
        continue;
      }
      priority_->OnWriterBacklog(queue_.bytes(), queue_.max_bytes());
      bool more = queue_.PopBatch(&batch, absl::Now() + options_.batch_interval, kWakeItems,
                                  kMaxBatchItems);
      for (Observation& o : batch) {
        if (auto* ex = std::get_if<Exchange>(&o)) ParseSseCapture(*ex);  // off the io threads
      }
      writer_->batch->WriteBatch(batch, queue_.TakeDrops());
      RecyclePayloads(batch, spent);
      if (!more) break;
    }
    writer_->final_status = writer_->batch->Finish(queue_.TakeDrops(), NowUnixMicros());
    priority_->Detach();
  });
}

Recorder::~Recorder() { (void)Close(); }

bool Recorder::TrySubmit(Observation&& obs) noexcept {
  try {
    uint64_t bytes = ApproximateBytes(obs);
    uint64_t queued = 0;
    const bool kept = queue_.TryPush(std::move(obs), bytes, NowUnixMicros(), &queued);
    priority_->OnPush(kept ? queued : queue_.max_bytes(), queue_.max_bytes());
    return kept;
  } catch (...) {
    return false;  // bad_alloc: the observation is lost, the relay is not
  }
}

absl::Status Recorder::Close() {
  if (closed_.exchange(true)) return writer_->final_status;
  queue_.Close();
  if (thread_.joinable()) thread_.join();
  return writer_->final_status;
}

RecorderStats Recorder::stats() const {
  WriterCounters& c = writer_->batch->counters();
  RecorderStats s;
  s.written = c.written.load();
  s.dropped = queue_.total_dropped();
  s.lost_in_failed_writes = c.lost.load();
  s.write_failures = c.write_failures.load();
  s.gaps_written = c.gaps_written.load();
  s.lost_while_paused = c.paused.load();
  // After the writer's counters, so that written + lost never exceeds it.
  s.accepted = queue_.total_pushed();
  return s;
}

}  // namespace relaytap::recorder
