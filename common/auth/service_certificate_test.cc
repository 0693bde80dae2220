#include "common/auth/service_certificate.h"

#include "gtest/gtest.h"

namespace smp {
namespace {

TEST(ServiceCertificateTest, NamesOnlyKnownServicesWithThePrefix) {
  EXPECT_EQ(ServiceNamedBy({"svc.scheduling"}), "scheduling");
  EXPECT_EQ(ServiceNamedBy({"localhost", "svc.inventory"}), "inventory");
  EXPECT_EQ(ServiceNamedBy({"svc.inventory", "svc.inventory"}), "inventory");
  EXPECT_EQ(ServiceNamedBy({}), std::nullopt);
  EXPECT_EQ(ServiceNamedBy({"scheduling"}), std::nullopt);
  EXPECT_EQ(ServiceNamedBy({"svc.printer"}), std::nullopt);
  EXPECT_EQ(ServiceNamedBy({"svc."}), std::nullopt);
  EXPECT_EQ(ServiceNamedBy({"svc.scheduling.evil.example"}), std::nullopt);
  EXPECT_EQ(ServiceNamedBy({"SVC.scheduling"}), std::nullopt);
  EXPECT_EQ(ServiceNamedBy({"operator"}), std::nullopt);
}

TEST(ServiceCertificateTest, TwoServicesInOneCertificateNameNone) {
  EXPECT_EQ(ServiceNamedBy({"svc.scheduling", "svc.inventory"}), std::nullopt);
}

TEST(ServiceCertificateTest, NoContextIsNoService) {
  EXPECT_EQ(ServiceOfPeer(nullptr), std::nullopt);
}

TEST(ServiceCertificateTest, PrincipalIsTheChainWideServiceRole) {
  const Principal who = ServicePrincipal("scheduling");
  EXPECT_TRUE(who.authenticated);
  EXPECT_EQ(who.staff_id, "svc.scheduling");
  EXPECT_EQ(who.username, "svc.scheduling");
  EXPECT_TRUE(who.session_id.empty());
  EXPECT_TRUE(who.HasRole(common::v1::ROLE_SERVICE));
  EXPECT_EQ(who.roles.size(), 1u);
  EXPECT_TRUE(who.IsChainWide());
  EXPECT_TRUE(who.Has(common::v1::PERMISSION_SERVICE_CALL));
  EXPECT_TRUE(who.Has(common::v1::PERMISSION_COMPLIANCE_RECORD));
  EXPECT_FALSE(who.Has(common::v1::PERMISSION_STAFF_WRITE));
}

}  // namespace
}  // namespace smp
