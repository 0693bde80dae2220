#include "common/rpc/encoded_unary.h"

#include <grpcpp/support/slice.h>

namespace smp {

grpc::ByteBuffer ByteBufferOf(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  return grpc::ByteBuffer(&slice, 1);
}

std::string StringOf(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  grpc::ByteBuffer copy(buffer);  // Dump is not const; the copy shares the slices
  std::string out;
  if (!copy.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace smp
