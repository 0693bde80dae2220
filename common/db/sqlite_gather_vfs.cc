#include "common/db/sqlite_gather_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <string>

namespace smp {
namespace {

// Bytes gathered at most before they are written anyway (a transaction larger than the page
// cache spills frames before its commit).
constexpr size_t kMaxGatheredBytes = 4 << 20;
// A log frame's header; the page follows it (https://sqlite.org/fileformat.html, "WAL format").
constexpr int kFrameHeaderBytes = 24;
constexpr sqlite3_int64 kLogHeaderBytes = 32;
// The largest write the default VFS makes in one call: its unix xWrite keeps only the low 17 bits
// of the length (and a short write is SQLITE_FULL).
constexpr size_t kMaxWriteBytes = 0x1ffff;

std::atomic<int64_t> log_writes{0};

sqlite3_vfs* BaseVfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// An open log file: the default VFS's file, and the frames not written yet.
struct LogFile {
  sqlite3_file base;  // pMethods: kLogMethods
  sqlite3_file* real;
  std::string* gathered;  // bytes to write at `gathered_at`
  sqlite3_int64 gathered_at;
  bool commit_page_next;  // the last write was a commit frame's header
};

// Where the default VFS's file lives, behind our header in the memory SQLite allocated.
constexpr size_t kRealOffset = (sizeof(LogFile) + 15) & ~size_t{15};

LogFile* AsLog(sqlite3_file* file) { return reinterpret_cast<LogFile*>(file); }

int Flush(LogFile* log) {
  const std::string& gathered = *log->gathered;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < gathered.size() && rc == SQLITE_OK;) {
    const size_t amount = std::min(gathered.size() - done, kMaxWriteBytes);
    log_writes.fetch_add(1, std::memory_order_relaxed);
    rc = log->real->pMethods->xWrite(log->real, gathered.data() + done, static_cast<int>(amount),
                                     log->gathered_at + static_cast<sqlite3_int64>(done));
    done += amount;
  }
  log->gathered->clear();
  return rc;
}

// True when a frame header marks the end of a transaction: its second field, the database size
// after the commit, is non-zero only in a commit frame.
bool IsCommitFrameHeader(const void* data) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  return (p[4] | p[5] | p[6] | p[7]) != 0;
}

int LogClose(sqlite3_file* file) {
  LogFile* log = AsLog(file);
  int rc = Flush(log);
  int closed = log->real->pMethods->xClose(log->real);
  delete log->gathered;
  log->gathered = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int LogRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  LogFile* log = AsLog(file);
  if (int rc = Flush(log); rc != SQLITE_OK) return rc;
  return log->real->pMethods->xRead(log->real, out, amount, offset);
}

int LogWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  LogFile* log = AsLog(file);
  std::string& gathered = *log->gathered;
  const bool follows =
      !gathered.empty() && offset == log->gathered_at + static_cast<sqlite3_int64>(gathered.size());
  if (!follows || gathered.size() + amount > kMaxGatheredBytes) {
    if (int rc = Flush(log); rc != SQLITE_OK) return rc;
    log->gathered_at = offset;
  }
  gathered.append(static_cast<const char*>(data), amount);
  if (log->commit_page_next) {
    log->commit_page_next = false;
    return Flush(log);  // the transaction is complete: write it, and report a failure to COMMIT
  }
  log->commit_page_next =
      amount == kFrameHeaderBytes && offset >= kLogHeaderBytes && IsCommitFrameHeader(data);
  return SQLITE_OK;
}

int LogTruncate(sqlite3_file* file, sqlite3_int64 size) {
  LogFile* log = AsLog(file);
  if (int rc = Flush(log); rc != SQLITE_OK) return rc;
  return log->real->pMethods->xTruncate(log->real, size);
}

int LogSync(sqlite3_file* file, int flags) {
  LogFile* log = AsLog(file);
  if (int rc = Flush(log); rc != SQLITE_OK) return rc;
  return log->real->pMethods->xSync(log->real, flags);
}

int LogFileSize(sqlite3_file* file, sqlite3_int64* size) {
  LogFile* log = AsLog(file);
  if (int rc = Flush(log); rc != SQLITE_OK) return rc;
  return log->real->pMethods->xFileSize(log->real, size);
}

int LogLock(sqlite3_file* file, int level) {
  return AsLog(file)->real->pMethods->xLock(AsLog(file)->real, level);
}
int LogUnlock(sqlite3_file* file, int level) {
  return AsLog(file)->real->pMethods->xUnlock(AsLog(file)->real, level);
}
int LogCheckReservedLock(sqlite3_file* file, int* out) {
  return AsLog(file)->real->pMethods->xCheckReservedLock(AsLog(file)->real, out);
}
int LogFileControl(sqlite3_file* file, int op, void* arg) {
  LogFile* log = AsLog(file);
  if (int rc = Flush(log); rc != SQLITE_OK) return rc;
  return log->real->pMethods->xFileControl(log->real, op, arg);
}
int LogSectorSize(sqlite3_file* file) {
  return AsLog(file)->real->pMethods->xSectorSize(AsLog(file)->real);
}
int LogDeviceCharacteristics(sqlite3_file* file) {
  return AsLog(file)->real->pMethods->xDeviceCharacteristics(AsLog(file)->real);
}

// Version 1: a log file is never memory-mapped or given shared memory by SQLite.
const sqlite3_io_methods kLogMethods = {
    .iVersion = 1,
    .xClose = LogClose,
    .xRead = LogRead,
    .xWrite = LogWrite,
    .xTruncate = LogTruncate,
    .xSync = LogSync,
    .xFileSize = LogFileSize,
    .xLock = LogLock,
    .xUnlock = LogUnlock,
    .xCheckReservedLock = LogCheckReservedLock,
    .xFileControl = LogFileControl,
    .xSectorSize = LogSectorSize,
    .xDeviceCharacteristics = LogDeviceCharacteristics,
    .xShmMap = nullptr,
    .xShmLock = nullptr,
    .xShmBarrier = nullptr,
    .xShmUnmap = nullptr,
    .xFetch = nullptr,
    .xUnfetch = nullptr,
};

int GatherOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
               int* out_flags) {
  sqlite3_vfs* base = BaseVfs(vfs);
  if ((flags & SQLITE_OPEN_WAL) == 0) return base->xOpen(base, name, file, flags, out_flags);
  LogFile* log = AsLog(file);
  sqlite3_file* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  std::memset(real, 0, base->szOsFile);
  int rc = base->xOpen(base, name, real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (real->pMethods != nullptr) real->pMethods->xClose(real);
    log->base.pMethods = nullptr;
    return rc;
  }
  log->real = real;
  log->gathered = new (std::nothrow) std::string();
  if (log->gathered == nullptr) {
    real->pMethods->xClose(real);
    log->base.pMethods = nullptr;
    return SQLITE_NOMEM;
  }
  log->gathered_at = 0;
  log->commit_page_next = false;
  log->base.pMethods = &kLogMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the default one's.
int GatherDelete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return BaseVfs(vfs)->xDelete(BaseVfs(vfs), name, sync_dir);
}
int GatherAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return BaseVfs(vfs)->xAccess(BaseVfs(vfs), name, flags, out);
}
int GatherFullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return BaseVfs(vfs)->xFullPathname(BaseVfs(vfs), name, size, out);
}
void* GatherDlOpen(sqlite3_vfs* vfs, const char* name) {
  return BaseVfs(vfs)->xDlOpen(BaseVfs(vfs), name);
}
void GatherDlError(sqlite3_vfs* vfs, int size, char* out) {
  BaseVfs(vfs)->xDlError(BaseVfs(vfs), size, out);
}
void (*GatherDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return BaseVfs(vfs)->xDlSym(BaseVfs(vfs), handle, symbol);
}
void GatherDlClose(sqlite3_vfs* vfs, void* handle) { BaseVfs(vfs)->xDlClose(BaseVfs(vfs), handle); }
int GatherRandomness(sqlite3_vfs* vfs, int size, char* out) {
  return BaseVfs(vfs)->xRandomness(BaseVfs(vfs), size, out);
}
int GatherSleep(sqlite3_vfs* vfs, int micros) { return BaseVfs(vfs)->xSleep(BaseVfs(vfs), micros); }
int GatherCurrentTime(sqlite3_vfs* vfs, double* out) {
  return BaseVfs(vfs)->xCurrentTime(BaseVfs(vfs), out);
}
int GatherGetLastError(sqlite3_vfs* vfs, int size, char* out) {
  return BaseVfs(vfs)->xGetLastError(BaseVfs(vfs), size, out);
}
int GatherCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return BaseVfs(vfs)->xCurrentTimeInt64(BaseVfs(vfs), out);
}

sqlite3_vfs* RegisterGatherVfs() {
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (base == nullptr || base->iVersion < 2) return nullptr;
  static sqlite3_vfs vfs = {};
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = "smp-gather";
  vfs.pAppData = base;
  vfs.xOpen = GatherOpen;
  vfs.xDelete = GatherDelete;
  vfs.xAccess = GatherAccess;
  vfs.xFullPathname = GatherFullPathname;
  vfs.xDlOpen = GatherDlOpen;
  vfs.xDlError = GatherDlError;
  vfs.xDlSym = GatherDlSym;
  vfs.xDlClose = GatherDlClose;
  vfs.xRandomness = GatherRandomness;
  vfs.xSleep = GatherSleep;
  vfs.xCurrentTime = GatherCurrentTime;
  vfs.xGetLastError = GatherGetLastError;
  vfs.xCurrentTimeInt64 = GatherCurrentTimeInt64;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return &vfs;
}

}  // namespace

const char* GatherVfsName() {
  static sqlite3_vfs* const vfs = RegisterGatherVfs();
  return vfs == nullptr ? nullptr : vfs->zName;
}

int64_t GatherVfsLogWrites() { return log_writes.load(std::memory_order_relaxed); }

}  // namespace smp
