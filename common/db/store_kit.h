#ifndef SMP_COMMON_DB_STORE_KIT_H_
#define SMP_COMMON_DB_STORE_KIT_H_

// The pieces every service's store is built from, so that each store holds only its own SQL:
// keyset pages, "<kind> <id> not found", protobuf messages kept as BLOB columns, and the
// placeholders of an IN list.
//
// A store lists with `LIMIT page.size + 1` after the page's key and hands the rows to MakePage,
// which cuts the extra row and remembers the last key; a message column is written with Serialize
// and read back with ParseOne / ParseAll (a row that does not parse is DATA_LOSS: the file was
// damaged or written by a newer schema).

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/db/database.h"
#include "common/util/paging.h"
#include "google/protobuf/message.h"

namespace smp {

// One page of a keyset-paged list.
template <typename T>
struct Page {
  std::vector<T> items;
  // Sort key of the last item when more may follow; "" on the last page.
  std::string last_key;
};

// `items` as read with LIMIT size + 1: at most `size` of them, and the key (`key(item)`) of the
// last one kept when there were more.
template <typename T, typename KeyFn>
Page<T> MakePage(std::vector<T> items, int size, KeyFn key) {
  Page<T> page;
  if (static_cast<int>(items.size()) > size) {
    items.resize(size);
    page.last_key = key(items.back());
  }
  page.items = std::move(items);
  return page;
}

// NOT_FOUND "<kind> <id> not found", the message every store gives for a missing resource.
absl::Status NotFound(absl::string_view kind, absl::string_view id);

// "?, ?, ?" for `n` parameters, as in "... IN (" + SqlPlaceholders(ids.size()) + ")".
std::string SqlPlaceholders(size_t n);

// A message as the bytes of a BLOB column.
inline Blob Serialize(const google::protobuf::Message& message) {
  return Blob{message.SerializeAsString()};
}

// Bytes read from a BLOB column parsed into `message` (cleared first; a reused message keeps its
// fields' buffers); DATA_LOSS naming `what` when they do not parse.
inline absl::Status ParseInto(const std::string& bytes, absl::string_view what,
                              google::protobuf::Message* message) {
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " does not parse"));
  }
  return absl::OkStatus();
}

// Bytes read from a BLOB column as `Message`; DATA_LOSS naming `what` when they do not parse.
template <typename Message>
absl::StatusOr<Message> Parse(const std::string& bytes, absl::string_view what) {
  Message message;
  if (absl::Status status = ParseInto(bytes, what, &message); !status.ok()) return status;
  return message;
}

// Column `column` of every row, parsed.
template <typename Message>
absl::StatusOr<std::vector<Message>> ParseAll(const std::vector<Row>& rows, int column = 0) {
  std::vector<Message> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    absl::StatusOr<Message> message = Parse<Message>(row.Text(column), "record");
    if (!message.ok()) return message.status();
    out.push_back(*std::move(message));
  }
  return out;
}

// Column `column` of the first row, parsed; NotFound(kind, id) when there is no row.
template <typename Message>
absl::StatusOr<Message> ParseOne(const std::vector<Row>& rows, absl::string_view kind,
                                 absl::string_view id, int column = 0) {
  if (rows.empty()) return NotFound(kind, id);
  return Parse<Message>(rows.front().Text(column), kind);
}

}  // namespace smp

#endif  // SMP_COMMON_DB_STORE_KIT_H_
