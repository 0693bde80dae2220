#!/usr/bin/env python3
"""The systemd units' command lines, run for real: each unit's ExecStart, with %d (credentials),
%S (state) and the fixed ports mapped to a temporary directory and free loopback ports, starts its
service against a real redis-server (ACL user smp, as the units expect); every service answers
SERVING through `smpctl health` and the console serves its page over HTTPS; SIGTERM stops each.
systemd is not needed: the test plays the part of LoadCredential= and StateDirectory= (files
0600/0400 owned by the runner, directories 0700). SMP_BUILD_DIR names the build."""

import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.dirname(HERE)
ROOT = os.path.dirname(DEPLOY)
BUILD = os.path.abspath(os.environ.get("SMP_BUILD_DIR", os.path.join(ROOT, "build")))
sys.path.insert(0, HERE)
import check_deploy  # noqa: E402

ORDER = ["identity", "compliance", "billing", "inventory", "scheduling", "console"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def exec_start(unit_path):
    for section, key, value in check_deploy.parse_unit(unit_path):
        if section == "Service" and key == "ExecStart":
            return value.split()
    raise AssertionError(f"{unit_path}: no ExecStart")


class SystemdUnits(unittest.TestCase):
    def setUp(self):
        if shutil.which("redis-server") is None:
            self.skipTest("redis-server is not installed")
        self.tmp = tempfile.mkdtemp(prefix="smp-units-smoke-")
        self.procs = []
        self.logs = []
        self.data = os.path.join(self.tmp, "data")          # %S/smp
        self.creds = os.path.join(self.tmp, "credentials")  # %d (one directory for all)
        os.makedirs(self.data, mode=0o700)
        os.makedirs(self.creds, mode=0o700)
        os.makedirs(os.path.join(self.tmp, "logs"))
        # The fixed ports of the units -> free ones.
        self.ports = {p: free_port() for p in
                      [7001, 7002, 7003, 7004, 7005, 9101, 9102, 9103, 9104, 9105, 8443, 6379]}

    def tearDown(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def credential(self, name, content):
        path = os.path.join(self.creds, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(content)
        os.chmod(path, 0o400)  # as LoadCredential= leaves it

    def start(self, argv, name):
        log = open(os.path.join(self.tmp, "logs", f"{name}.log"), "wb")
        self.logs.append(log)
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def render(self, service):
        argv = exec_start(os.path.join(DEPLOY, "systemd", f"smp-{service}.service"))
        self.assertEqual(argv[0], f"/usr/local/bin/{service}")
        out = [os.path.join(BUILD, "services", service, service)]
        for arg in argv[1:]:
            arg = arg.replace("%d/", self.creds + "/").replace("%S/smp/", self.data + "/")
            arg = arg.replace("/usr/share/smp/console/web",
                              os.path.join(ROOT, "services", "console", "web"))
            # 0.0.0.0:8443 -> loopback: the test opens nothing beyond this machine.
            arg = re.sub(r"(0\.0\.0\.0|127\.0\.0\.1):(\d+)",
                         lambda m: f"127.0.0.1:{self.ports.get(int(m.group(2)), m.group(2))}",
                         arg)
            out.append(arg)
        for arg in out[1:]:
            if arg.startswith("--data_dir="):
                os.makedirs(arg.split("=", 1)[1], mode=0o700, exist_ok=True)
            if arg.startswith("--checkpoint_key_file="):
                os.makedirs(os.path.dirname(arg.split("=", 1)[1]), mode=0o700, exist_ok=True)
        return out

    def smpctl(self, *args, **kw):
        return subprocess.run([os.path.join(BUILD, "tools", "smpctl", "smpctl"), *args],
                              capture_output=True, text=True, timeout=30, **kw)

    def wait_serving(self, service, proc):
        unit_port = {"identity": 7001, "scheduling": 7002, "inventory": 7003, "compliance": 7004,
                     "billing": 7005}[service]
        address = f"127.0.0.1:{self.ports[unit_port]}"
        deadline = time.time() + 30
        while time.time() < deadline:
            if proc.poll() is not None:
                break
            r = self.smpctl("health", f"--address={address}", "--timeout=1s",
                            env={**os.environ, "HOME": self.tmp})
            if r.returncode == 0:
                self.assertIn("SERVING", r.stdout)
                return
            time.sleep(0.2)
        log = read(os.path.join(self.tmp, "logs", f"{service}.log"))[-3000:]
        self.fail(f"{service} did not serve (exit {proc.poll()}):\n{log}")

    def test_every_unit_starts_serves_and_stops(self):
        # Secrets as an install puts them in /etc/smp/secrets.
        redis_password = os.urandom(24).hex()
        self.credential("session-mac.key", os.urandom(32))
        self.credential("redis.password", redis_password.encode())
        self.credential("console-csrf.key", os.urandom(32))
        tls = os.path.join(self.tmp, "tls")
        subprocess.run(["bash", os.path.join(DEPLOY, "make-certs.sh"), "--dir", tls,
                        "--services", "console"], check=True, capture_output=True)
        self.credential("console.pem", read(os.path.join(tls, "console.pem"), "rb"))
        self.credential("console.key", read(os.path.join(tls, "console.key"), "rb"))

        # Redis as the units expect it: ACL user smp with that password.
        acl = os.path.join(self.tmp, "users.acl")
        with open(acl, "w") as f:
            f.write(f"user default on #{hashlib.sha256(os.urandom(16)).hexdigest()} ~* &* +@all\n"
                    f"user smp on #{hashlib.sha256(redis_password.encode()).hexdigest()} "
                    "~smp:* &* +@all -@dangerous -@admin\n")
        redis_dir = os.path.join(self.tmp, "redis")
        os.makedirs(redis_dir)
        self.start(["redis-server", "--port", str(self.ports[6379]), "--bind", "127.0.0.1",
                    "--dir", redis_dir, "--aclfile", acl, "--save", "", "--appendonly", "no"],
                   "redis")
        env = {**os.environ, "REDISCLI_AUTH": redis_password}
        for _ in range(100):
            r = subprocess.run(["redis-cli", "--user", "smp", "-p", str(self.ports[6379]), "ping"],
                               capture_output=True, text=True, env=env)
            if "PONG" in r.stdout:
                break
            time.sleep(0.1)

        procs = {}
        procs["identity"] = self.start(self.render("identity"), "identity")
        self.wait_serving("identity", procs["identity"])
        # The first admin and the service accounts, as an install does (scripts/demo.sh).
        demo_env = {**os.environ, "SMP_DATA_DIR": self.data, "HOME": self.tmp,
                    "SMPCTL": os.path.join(BUILD, "tools", "smpctl", "smpctl"),
                    "SMPCTL_IDENTITY": f"127.0.0.1:{self.ports[7001]}"}
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo.sh"), "accounts"],
                           capture_output=True, text=True, env=demo_env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        for s in ["scheduling", "inventory", "compliance", "billing"]:
            self.credential(f"svc.{s}.credentials",
                            read(os.path.join(self.data, "secrets", f"svc.{s}.credentials"), "rb"))
        for service in ORDER[1:-1]:
            procs[service] = self.start(self.render(service), service)
            self.wait_serving(service, procs[service])
        procs["console"] = self.start(self.render("console"), "console")
        ctx = ssl.create_default_context(cafile=os.path.join(tls, "ca.pem"))
        deadline = time.time() + 30
        page = None
        while time.time() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{self.ports[8443]}/",
                                            context=ctx, timeout=2) as resp:
                    page = resp.status
            except OSError:
                if procs["console"].poll() is not None:
                    break
                time.sleep(0.2)
        self.assertEqual(page, 200, read(os.path.join(self.tmp, "logs", "console.log")))
        # The metrics endpoints the units bind answer too.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[9102]}/metrics",
                                    timeout=5) as resp:
            self.assertIn(b"smp_grpc_server_handled_total", resp.read())
        # SIGTERM (systemd's KillSignal) stops each within TimeoutStopSec=30s.
        for service in reversed(ORDER):
            procs[service].send_signal(signal.SIGTERM)
            self.assertIsNotNone(procs[service].wait(timeout=30), service)


if __name__ == "__main__":
    unittest.main()
