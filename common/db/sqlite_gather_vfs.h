#ifndef SMP_COMMON_DB_SQLITE_GATHER_VFS_H_
#define SMP_COMMON_DB_SQLITE_GATHER_VFS_H_

// A SQLite VFS that writes a commit's write-ahead-log frames with one pwrite.
//
// SQLite appends each frame of a commit to the log with two writes (a 24-byte frame header, then
// the page), so a batch of bookings touching about thirty pages made some sixty pwrite calls
// while holding the write lock. On a virtual machine every system call is costly; in tools/bench
// the COMMIT of a booking batch took 500-900 us of the lock, most of it in those calls. This VFS
// wraps the default one ("unix") and, for log files only, gathers consecutive writes in memory
// and writes them out in one call:
// - when the page of a commit frame arrives (the frame header says "commit": the transaction is
//   complete), so the COMMIT's own write reports any failure and SQLite rolls the transaction back
//   exactly as if a plain write had failed;
// - before any read, size query, truncation or sync of the log, and on close;
// - when the gathered bytes would pass kMaxGatheredBytes (a large transaction spilling pages).
// SQLite publishes a commit to readers (the log index header in shared memory) only after it has
// written the commit frame, so a reader never looks for frames still held here. Gathered bytes
// belong to a transaction that has not committed, so a crash that loses them loses nothing that
// was acknowledged. Every other file (the database, its shared memory, journals) is the default
// VFS's untouched.

#include <cstdint>

namespace smp {

// The VFS's name for sqlite3_open_v2, registering it (not as the default) on first use. Null if
// SQLite has no default VFS to wrap (never on Linux builds).
const char* GatherVfsName();

// Writes the gathering VFS made to log files since the process started (tests).
int64_t GatherVfsLogWrites();

}  // namespace smp

#endif  // SMP_COMMON_DB_SQLITE_GATHER_VFS_H_
