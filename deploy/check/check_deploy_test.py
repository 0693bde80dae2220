#!/usr/bin/env python3
"""Tests of check_deploy.py: the real deploy/ passes, and a copy broken in one place fails with
the problem named. The build directory comes from SMP_BUILD_DIR (set by ctest)."""

import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_deploy  # noqa: E402

DEPLOY = os.path.dirname(HERE)
BUILD = os.environ.get("SMP_BUILD_DIR", os.path.join(os.path.dirname(DEPLOY), "build"))


class BrokenFixtures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smp-deploy-test-")
        self.deploy = os.path.join(self.tmp, "deploy")
        shutil.copytree(DEPLOY, self.deploy,
                        ignore=shutil.ignore_patterns("secrets", "__pycache__"))
        # The Containerfile's COPY sources are checked against the repository root.
        for d in ("CMakeLists.txt", "cmake", "protos", "common", "services", "tools"):
            os.symlink(os.path.join(os.path.dirname(DEPLOY), d), os.path.join(self.tmp, d))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def edit(self, relative, old, new, count=1):
        path = os.path.join(self.deploy, relative)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text, f"fixture text not found in {relative}")
        with open(path, "w") as f:
            f.write(text.replace(old, new, count))

    def problems(self, *parts):
        return check_deploy.run(self.deploy, BUILD, kubectl="never", parts=parts).items

    def assertProblem(self, problems, pattern):
        self.assertTrue(any(re.search(pattern, p) for p in problems),
                        f"no problem matching {pattern!r} in:\n" + "\n".join(problems))

    def test_unbroken_copy_passes(self):
        self.assertEqual(self.problems(*check_deploy.PARTS), [])

    def test_yaml_that_does_not_parse(self):
        self.edit("k8s/base/config.yaml", "data:\n", "data:\n  - [unclosed\n")
        self.assertProblem(self.problems("yaml"), r"config.yaml: does not parse")

    def test_configmap_key_that_does_not_exist(self):
        self.edit("k8s/base/scheduling.yaml", "key: billing_address", "key: billing_adress")
        self.assertProblem(self.problems("k8s"),
                           r"Deployment scheduling .*ConfigMap smp-config has no key "
                           r"billing_adress")

    def test_secret_that_is_not_generated(self):
        self.edit("k8s/overlays/production/kustomization.yaml", "- name: smp-console-csrf\n",
                  "- name: smp-console-xsrf\n")
        self.assertProblem(self.problems("k8s"), r"Deployment console.*no Secret smp-console-csrf")

    def test_secret_file_no_volume_provides(self):
        self.edit("k8s/base/identity.yaml", "--session_mac_key_file=/run/smp/session-mac.key",
                  "--session_mac_key_file=/run/smp/session.key")
        self.assertProblem(self.problems("k8s"),
                           r"Deployment identity.*volume run-smp provides no session.key")

    def test_flag_the_binary_does_not_have(self):
        self.edit("k8s/base/billing.yaml", "--metrics_listen=", "--metric_listen=")
        self.assertProblem(self.problems("k8s"), r"--metric_listen is not a flag of billing")

    def test_env_of_no_flag(self):
        self.edit("k8s/base/inventory.yaml", "name: SMP_SCHEDULING_ADDRESS",
                  "name: SMP_SCHEDULER_ADDRESS")
        self.assertProblem(self.problems("k8s"), r"--scheduler_address is not a flag of inventory")

    def test_probe_on_the_wrong_port(self):
        # The mTLS port instead of the health-only one: the kubelet's probe would fail there.
        self.edit("k8s/base/compliance.yaml", "grpc:\n            port: 7104",
                  "grpc:\n            port: 7004")
        self.assertProblem(self.problems("k8s"),
                           r"Deployment compliance.*Probe asks port 7004, the health port is 7104")

    def test_grpc_probe_without_a_health_port(self):
        self.edit("k8s/base/billing.yaml", "        - name: SMP_HEALTH_LISTEN\n"
                  "          value: 0.0.0.0:7105\n", "")
        self.assertProblem(self.problems("k8s"),
                           r"Deployment billing.*grpc probe but there is no --health_listen")

    def test_service_target_port_no_pod_declares(self):
        self.edit("k8s/base/billing.yaml", "targetPort: 7005", "targetPort: 7006")
        self.assertProblem(self.problems("k8s"), r"Service billing.*targetPort 7006")

    def test_hop_the_network_policies_do_not_allow(self):
        # scheduling's egress to billing removed: its --billing_address needs it.
        self.edit("k8s/base/networkpolicies.yaml",
                  "  - to:\n    - podSelector:\n        matchLabels:\n"
                  "          app.kubernetes.io/name: billing\n    ports:\n"
                  "    - protocol: TCP\n      port: 7005\n", "")
        self.assertProblem(self.problems("k8s"),
                           r"Deployment scheduling -> Deployment billing:7005 "
                           r"\(--billing_address\) is not allowed as egress")

    def test_hop_no_flag_uses(self):
        # billing may call scheduling by policy, but none of its flags names scheduling.
        with open(os.path.join(self.deploy, "k8s/base/networkpolicies.yaml"), "a") as f:
            f.write("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: billing-to-scheduling}\nspec:\n"
                    "  podSelector: {matchLabels: {app.kubernetes.io/name: scheduling}}\n"
                    "  policyTypes: [Ingress]\n"
                    "  ingress: [{from: [{podSelector: {matchLabels: "
                    "{app.kubernetes.io/name: billing}}}], ports: [{port: 7002}]}]\n"
                    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: billing-out}\nspec:\n"
                    "  podSelector: {matchLabels: {app.kubernetes.io/name: billing}}\n"
                    "  policyTypes: [Egress]\n  egress: [{ports: [{port: 7002}]}]\n")
        self.assertProblem(self.problems("k8s"),
                           r"allows Deployment billing -> Deployment scheduling:7002, which no "
                           r"flag")

    def test_writable_root_file_system(self):
        self.edit("k8s/base/console.yaml", "readOnlyRootFilesystem: true",
                  "readOnlyRootFilesystem: false", count=2)
        self.assertProblem(self.problems("k8s"), r"console.*readOnlyRootFilesystem is not true")

    def test_deployment_without_autoscaler(self):
        self.edit("k8s/base/inventory.yaml", "kind: HorizontalPodAutoscaler", "kind: Ignored")
        self.assertProblem(self.problems("k8s"),
                           r"Deployment inventory: no HorizontalPodAutoscaler targets it")

    def test_compose_peer_on_the_wrong_port(self):
        self.edit("compose/compose.yaml", "--identity_address=identity:7001",
                  "--identity_address=identity:7011")
        self.assertProblem(self.problems("compose"),
                           r"--identity_address: identity listens on 7001, not 7011")

    def test_compose_secret_not_mounted(self):
        self.edit("compose/compose.yaml", "db-billing-password, redis-password",
                  "redis-password")
        self.assertProblem(self.problems("compose"),
                           r"service billing: --database_password_file=/run/secrets/"
                           r"db-billing-password: no such secret mounted")

    def test_compose_health_check_on_the_wrong_port(self):
        self.edit("compose/compose.yaml", '"--address=127.0.0.1:7003"',
                  '"--address=127.0.0.1:7002"')
        self.assertProblem(self.problems("compose"),
                           r"service inventory: healthcheck asks port 7002")

    def test_compose_container_as_root_with_capabilities(self):
        self.edit("compose/compose.yaml", '  user: "10001:10001"\n  read_only: true\n'
                  "  cap_drop: [ALL]\n", "  read_only: false\n")
        problems = self.problems("compose")
        self.assertProblem(problems, r"service identity: runs as root")
        self.assertProblem(problems, r"service console: cap_drop does not drop ALL")
        self.assertProblem(problems, r"service billing: read_only is not true")

    def test_unit_credential_not_loaded(self):
        self.edit("systemd/smp-billing.service",
                  "LoadCredential=redis.password:/etc/smp/secrets/redis.password\n", "")
        self.assertProblem(self.problems("systemd"),
                           r"smp-billing.service: --redis_password_file=%d/redis.password: no "
                           r"LoadCredential=redis.password")

    def test_unit_without_hardening(self):
        self.edit("systemd/smp-identity.service", "ProtectSystem=strict\n", "")
        self.assertProblem(self.problems("systemd"), r"smp-identity.service: no ProtectSystem=")

    def test_unit_systemd_analyze_rejects(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        self.edit("systemd/smp-inventory.service", "Restart=on-failure",
                  "Restart=on-failure\nRestartSec=soon")
        self.assertProblem(self.problems("systemd"),
                           r"smp-inventory.service: systemd-analyze verify: .*Failed to parse sec value")

    def test_image_missing_a_binary_and_running_as_root(self):
        self.edit("image/Containerfile", "       /build/tools/smpctl/smpctl /out/bin/",
                  "       /out/bin/")
        self.edit("image/Containerfile", "USER 10001:10001", "USER root")
        problems = self.problems("image")
        self.assertProblem(problems, r"smpctl is not copied into the image")
        self.assertProblem(problems, r"does not end with a non-root USER")


if __name__ == "__main__":
    unittest.main()
