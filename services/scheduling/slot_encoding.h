#ifndef SMP_SERVICES_SCHEDULING_SLOT_ENCODING_H_
#define SMP_SERVICES_SCHEDULING_SLOT_ENCODING_H_

// FindAvailability's answer in wire form: an AvailabilityResult encoded as a
// smp.scheduling.v1.FindAvailabilityResponse, served raw (EncodedUnary) rather than built as a
// message for gRPC to serialise. A page of 200 slots as a message is about 1,000 small heap
// objects (each Slot, its two Timestamps and two id strings) made and freed per call; with the
// services' two malloc arenas (tools/bench/run.sh, MALLOC_ARENA_MAX=2) their allocation was a
// third of FindAvailability's CPU. Here one Slot message is filled and serialised for every slot
// in turn, so a page allocates only its output.

#include <string>

#include "services/scheduling/availability.h"

namespace smp::scheduling {

// The bytes of the FindAvailabilityResponse with `result`'s slots (in order) and `truncated`.
std::string EncodeAvailability(const AvailabilityResult& result);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SLOT_ENCODING_H_
