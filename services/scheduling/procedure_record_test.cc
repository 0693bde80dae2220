#include "services/scheduling/procedure_record.h"

#include <string>

#include "common/status/status_matchers.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"

namespace smp::scheduling {
namespace {

using ::smp::testing::IsOk;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

google::protobuf::RepeatedPtrField<inventory::v1::IssueLine> Lines(int n) {
  google::protobuf::RepeatedPtrField<inventory::v1::IssueLine> lines;
  for (int i = 0; i < n; ++i) lines.Add()->set_serial("NDL-" + std::to_string(i));
  return lines;
}

inventory::v1::IssuedItem Item(inventory::v1::ProductKind kind, const std::string& name,
                               const std::string& lot, const std::string& serial) {
  inventory::v1::IssuedItem item;
  item.set_product_id("01JD00000000000000000000PR");
  item.set_product_kind(kind);
  item.set_product_name(name);
  item.set_lot_number(lot);
  item.mutable_expiry_date()->set_year(2027);
  item.mutable_expiry_date()->set_month(3);
  item.mutable_expiry_date()->set_day(31);
  item.set_serial(serial);
  item.set_quantity(1);
  return item;
}

TEST(ProcedureRecordTest, ProceduresNeedSuppliesConsultationsTakeNone) {
  EXPECT_THAT(ValidateSupplies(v1::TREATMENT_SESSION, Lines(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one line")));
  EXPECT_THAT(ValidateSupplies(v1::TOUCH_UP, Lines(1)), IsOk());
  EXPECT_THAT(ValidateSupplies(v1::SAMPLE_PATCH, Lines(kMaxSupplyLines)), IsOk());
  EXPECT_THAT(ValidateSupplies(v1::SAMPLE_PATCH, Lines(kMaxSupplyLines + 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 50")));
  EXPECT_THAT(ValidateSupplies(v1::CONSULTATION, Lines(0)), IsOk());
  EXPECT_THAT(ValidateSupplies(v1::CORRECTION_CONSULT, Lines(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("uses no supplies")));
}

TEST(ProcedureRecordTest, CompletionTextStaysWithinComplianceLimits) {
  v1::CompleteAppointmentRequest request;
  request.set_pigment_blend("2 parts Espresso, 1 part Charcoal");
  EXPECT_THAT(ValidateCompletion(request), IsOk());
  request.set_pigment_blend(std::string(501, 'x'));
  EXPECT_THAT(ValidateCompletion(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pigment_blend")));
  request.clear_pigment_blend();
  request.set_anaesthetic(std::string(201, 'x'));
  EXPECT_THAT(ValidateCompletion(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("anaesthetic")));
  request.clear_anaesthetic();
  request.set_notes(std::string(2001, 'x'));
  EXPECT_THAT(ValidateCompletion(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("notes")));
}

TEST(ProcedureRecordTest, RecordCarriesNeedlesPigmentsAndTheLocalDay) {
  v1::Appointment done;
  done.set_id("01JD00000000000000000000AP");
  done.set_clinic_id("01JD00000000000000000000C1");
  done.set_patient_id("01JD00000000000000000000P1");
  done.set_practitioner_id("01JD00000000000000000000T1");
  done.set_type(v1::TREATMENT_SESSION);
  // Started 23:30 UTC on 14 March: already the 15th in Sydney, still the 14th in New York.
  const absl::Time started = absl::FromUnixSeconds(1773531000);
  *done.mutable_procedure_start_time() = ToProtoTimestamp(started);
  *done.add_supplies() = Item(inventory::v1::PRODUCT_KIND_NEEDLE_CARTRIDGE, "3RL", "N-1", "S-1");
  *done.add_supplies() = Item(inventory::v1::PRODUCT_KIND_NEEDLE_CARTRIDGE, "3RL", "N-1", "S-2");
  *done.add_supplies() = Item(inventory::v1::PRODUCT_KIND_PIGMENT, "Dark Espresso", "P-7", "");
  *done.add_supplies() = Item(inventory::v1::PRODUCT_KIND_CONSUMABLE, "Gloves", "G-1", "");

  v1::CompleteAppointmentRequest report;
  report.mutable_checklist()->set_gloves_worn(true);
  report.set_pigment_blend("Dark Espresso 100%");
  report.set_anaesthetic("lidocaine 5% cream");
  report.set_notes("Hairline softened");

  absl::TimeZone sydney;
  ASSERT_TRUE(absl::LoadTimeZone("Australia/Sydney", &sydney));
  compliance::v1::RecordProcedureRequest request = ProcedureRecordFor(done, report, sydney);
  const compliance::v1::ProcedureRecord& r = request.record();
  EXPECT_TRUE(request.request_id().empty());  // the outbox names the event
  EXPECT_EQ(r.appointment_id(), done.id());
  EXPECT_EQ(r.practitioner_id(), done.practitioner_id());
  EXPECT_EQ(r.procedure_type(), compliance::v1::PROCEDURE_TYPE_TREATMENT_SESSION);
  EXPECT_EQ(FromProtoTimestamp(r.performed_time()), started);
  EXPECT_EQ(r.performed_date().day(), 15);
  ASSERT_EQ(r.needles_size(), 2);
  EXPECT_EQ(r.needles(1).serial(), "S-2");
  EXPECT_EQ(r.needles(1).lot(), "N-1");
  EXPECT_EQ(r.needles(1).expiry_date().month(), 3);
  ASSERT_EQ(r.pigments_size(), 1);  // the gloves stay in inventory's ledger
  EXPECT_EQ(r.pigments(0).shade(), "Dark Espresso");
  EXPECT_TRUE(r.checklist().gloves_worn());
  EXPECT_FALSE(r.checklist().mask_worn());
  EXPECT_EQ(r.pigment_blend(), "Dark Espresso 100%");
  EXPECT_EQ(r.anaesthetic(), "lidocaine 5% cream");

  absl::TimeZone new_york;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &new_york));
  EXPECT_EQ(ProcedureRecordFor(done, report, new_york).record().performed_date().day(), 14);
}

}  // namespace
}  // namespace smp::scheduling
