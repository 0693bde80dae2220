#!/usr/bin/env python3
"""The compose file's command lines, run for real without a container runtime: make-secrets.sh
makes the secrets (certificates, passwords, the checkpoint key) in a copy of deploy/compose; a
real PostgreSQL 15 (as the `postgres` user, TLS on) is initialised by postgres-init.sh; redis-server
has the ACL user `smp`; then each suite service of compose.yaml starts with its own command and
environment, host names and ports mapped to free loopback ports and /run/secrets/<name> to the
secret's file. Checks: every service SERVING through its compose health check's smpctl command;
the console's page over HTTPS; an admin (operator certificate) creates a clinic, has inventory
take its zone from identity and asks inventory for its forecast, which inventory gets from
scheduling: both hops over mutual TLS with svc.inventory's certificate as its identity; SIGTERM
stops each. The Sentinel flags point at a local sentinel; while the binaries lack them
(pending_flags.txt) --redis replaces them. Runs as root (make-secrets.sh chowns; PostgreSQL runs as `postgres`); SMP_BUILD_DIR names
the build."""

import json
import os
import pwd
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

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.dirname(HERE)
ROOT = os.path.dirname(DEPLOY)
BUILD = os.path.abspath(os.environ.get("SMP_BUILD_DIR", os.path.join(ROOT, "build")))
PG_BIN = "/usr/lib/postgresql/15/bin"
sys.path.insert(0, HERE)
import check_deploy  # noqa: E402

ORDER = ["identity", "compliance", "billing", "inventory", "scheduling", "console"]
# The image's user: the services refuse secret files that belong to another uid.
AS_IMAGE_USER = ["setpriv", "--reuid=10001", "--regid=10001", "--clear-groups"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


class SmokeStack(unittest.TestCase):
    """PostgreSQL 15, Redis and the suite's processes in a temporary directory; shared by the
    compose and Kubernetes command-line tests."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (make-secrets.sh chowns, PostgreSQL runs as postgres)")
        for need in (f"{PG_BIN}/initdb", shutil.which("redis-server"), shutil.which("runuser"),
                     shutil.which("setpriv")):
            if not need or not os.path.exists(need):
                self.skipTest(f"{need} is not installed")
        try:
            self.pg_user = pwd.getpwnam("postgres")
        except KeyError:
            self.skipTest("no postgres user")
        self.tmp = tempfile.mkdtemp(prefix="smp-compose-smoke-", dir="/tmp")
        os.chmod(self.tmp, 0o755)  # postgres traverses it
        self.procs = []
        self.logs = []
        self.pg_data = None
        self.smpctl_bin = os.path.join(BUILD, "tools", "smpctl", "smpctl")

    def tearDown(self):
        if self.pg_data and os.path.exists(os.path.join(self.pg_data, "postmaster.pid")):
            try:
                os.kill(int(read(os.path.join(self.pg_data, "postmaster.pid")).split()[0]),
                        signal.SIGINT)  # fast shutdown
            except (OSError, ValueError):
                pass
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, argv, name, env=None):
        log = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        self.logs.append(log)
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        return p

    def log_of(self, name):
        return read(os.path.join(self.tmp, f"{name}.log"))[-3000:]

    def as_postgres(self, path):
        os.chown(path, self.pg_user.pw_uid, self.pg_user.pw_gid)

    def start_postgres(self, tls_cert, tls_key, superuser_password, init_passwords, init_script):
        """PostgreSQL 15 with TLS (this certificate and key) on a free loopback port, as the
        `postgres` user; one role and database per service made by `init_script`
        (compose/postgres-init.sh) from `init_passwords`. Returns the port."""
        port = free_port()
        self.pg_data = os.path.join(self.tmp, "pg")
        pg_files = os.path.join(self.tmp, "pg-files")
        for d in (pg_files, self.pg_data):
            os.makedirs(d, mode=0o700)
            self.as_postgres(d)
        for src, dst in ((tls_cert, "server.pem"), (tls_key, "server.key"),
                         (superuser_password, "superuser.password"),
                         (init_passwords, "passwords")):
            shutil.copy(src, os.path.join(pg_files, dst))
            os.chmod(os.path.join(pg_files, dst), 0o600)
            self.as_postgres(os.path.join(pg_files, dst))
        r = subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D",
                            self.pg_data, "-U", "postgres", "--locale=C", "--encoding=UTF8",
                            "--auth-local=trust", "--auth-host=scram-sha-256",
                            f"--pwfile={pg_files}/superuser.password"],
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        pg = self.start(["runuser", "-u", "postgres", "--", f"{PG_BIN}/postgres", "-D",
                         self.pg_data, "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
                         "-c", f"unix_socket_directories={pg_files}", "-c", "ssl=on",
                         "-c", f"ssl_cert_file={pg_files}/server.pem",
                         "-c", f"ssl_key_file={pg_files}/server.key"], "postgres")
        for _ in range(150):
            if subprocess.run([f"{PG_BIN}/pg_isready", "-h", "127.0.0.1", "-p", str(port)],
                              capture_output=True).returncode == 0:
                break
            self.assertIsNone(pg.poll(), self.log_of("postgres"))
            time.sleep(0.2)
        init = read(init_script).replace("/run/secrets/postgres-init-passwords",
                                         f"{pg_files}/passwords")
        with open(os.path.join(pg_files, "init.sh"), "w") as f:
            f.write(init)
        r = subprocess.run(["runuser", "-u", "postgres", "--", "env", "POSTGRES_USER=postgres",
                            f"PGHOST={pg_files}", f"PGPORT={port}", "bash",
                            f"{pg_files}/init.sh"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return port

    def start_redis(self, password):
        """redis-server on a free loopback port with the services' ACL user smp, and one
        sentinel monitoring it as `smp-redis` (self.sentinel_port; user smp may only PING and
        ask for the primary, as in the deploy files). Returns the Redis port."""
        port = free_port()
        admin = os.urandom(16).hex()
        acl = os.path.join(self.tmp, "users.acl")
        with open(acl, "w") as f:
            f.write(f"user default on >{admin} ~* &* +@all\n"
                    f"user smp on >{password} ~smp:* &* +@all -@dangerous -@admin +role\n")
        os.makedirs(os.path.join(self.tmp, "redis"))
        self.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                    "--dir", os.path.join(self.tmp, "redis"), "--aclfile", acl, "--save", ""],
                   "redis")
        for _ in range(100):
            if "PONG" in subprocess.run(["redis-cli", "--user", "smp", "-p", str(port), "ping"],
                                        capture_output=True, text=True,
                                        env={**os.environ, "REDISCLI_AUTH": password}).stdout:
                break
            time.sleep(0.1)
        self.sentinel_port = free_port()
        conf = os.path.join(self.tmp, "redis", "sentinel.conf")
        with open(conf, "w") as f:
            f.write(f"port {self.sentinel_port}\nbind 127.0.0.1\n"
                    f"user default on >{admin} ~* &* +@all\n"
                    f"user smp on >{password} -@all +ping +sentinel|get-master-addr-by-name\n"
                    f"sentinel monitor smp-redis 127.0.0.1 {port} 1\n"
                    "sentinel auth-user smp-redis default\n"
                    f"sentinel auth-pass smp-redis {admin}\n")
        self.start(["redis-server", conf, "--sentinel"], "sentinel")
        return port

    def redis_settings(self, binary, flag, value):
        """How a Redis setting of the deploy files runs here: the Sentinel flags point at this
        machine's sentinel when the binary has them; while it lacks them (pending_flags.txt)
        --redis names the Redis server instead. Returns [(flag, value)]."""
        if flag not in ("redis_sentinels", "redis_master_name"):
            return [(flag, value)]
        if flag in check_deploy.Flags(BUILD, {}).of(binary):
            if flag == "redis_sentinels":
                value = ",".join(f"127.0.0.1:{self.sentinel_port}" for _ in value.split(","))
            return [(flag, value)]
        return [("redis", f"127.0.0.1:{self.redis_port}")] if flag == "redis_sentinels" else []

    def image_user_dir(self, path):
        """A directory (0700) of the image's user."""
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chown(path, 10001, 10001)
        return path

    def wait_health(self, name, proc, argv, env):
        """Runs a health check command (as the image's user) until it answers SERVING."""
        deadline = time.time() + 60
        while True:
            r = subprocess.run(AS_IMAGE_USER + argv, capture_output=True, text=True, env=env,
                               timeout=30)
            if r.returncode == 0:
                self.assertIn("SERVING", r.stdout)
                return
            self.assertIsNone(proc.poll(), self.log_of(name))
            self.assertLess(time.time(), deadline, r.stderr + self.log_of(name))
            time.sleep(0.3)

    def wait_https(self, name, proc, port, ca):
        """The console's page over HTTPS, its certificate verified against `ca`."""
        ctx = ssl.create_default_context(cafile=ca)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=ctx,
                                            timeout=2) as resp:
                    self.assertEqual(resp.status, 200)
                    return
            except OSError:
                self.assertIsNone(proc.poll(), self.log_of(name))
                time.sleep(0.2)
        self.fail(f"{name} served no page over HTTPS")

    def operator_calls(self, tls_dir, ports, setup_code_file):
        """As an operator with the `operator` certificate (it names no service): the first admin
        and a clinic; inventory takes the clinic's zone from identity and its forecast from
        scheduling, both as svc.inventory over mutual TLS (a refused hop: UNAVAILABLE, exit 8)."""
        home = self.image_user_dir(os.path.join(self.tmp, "operator"))
        for f in ("ca.pem", "operator.pem", "operator.key"):  # the operator's own copies
            shutil.copy(os.path.join(tls_dir, f), os.path.join(home, f))
            os.chown(os.path.join(home, f), 10001, 10001)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMPCTL_")}
        env.update({"HOME": home, "SMPCTL_TOKEN_FILE": os.path.join(home, "token"),
                    "SMPCTL_TLS_CA": f"{home}/ca.pem", "SMPCTL_TLS_CERT": f"{home}/operator.pem",
                    "SMPCTL_TLS_KEY": f"{home}/operator.key"})
        for s in ORDER[:-1]:
            env[f"SMPCTL_{s.upper()}"] = f"127.0.0.1:{ports[s]}"
        password = os.path.join(home, "owner.password")
        with open(os.open(password, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(12).hex() + "\n")
        os.chown(password, 10001, 10001)

        def ctl(*args):
            r = subprocess.run(AS_IMAGE_USER + [self.smpctl_bin, *args], capture_output=True,
                               text=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 0, f"smpctl {' '.join(args)}: {r.stderr}")
            return r.stdout

        ctl("bootstrap-admin", "--username=owner", f"--password_file={password}",
            f"--setup_code_file={setup_code_file}")
        ctl("login", "--username=owner", f"--password_file={password}")
        clinic = json.loads(ctl("--json", "clinic", "create", "--name=Austin",
                                "--time_zone=America/Chicago"))["id"]
        ctl("inventory-settings", "set", f"--clinic={clinic}")
        self.assertIn("weeks", ctl("forecast", f"--clinic={clinic}").lower())

    def stop_all(self, procs):
        """SIGTERM (the stop signal of compose, Kubernetes and systemd) stops each."""
        for name in reversed(ORDER):
            procs[name].send_signal(signal.SIGTERM)
            self.assertIsNotNone(procs[name].wait(timeout=30), name)


class ComposeCommandLines(SmokeStack):
    def test_compose_services_start_serve_call_each_other_and_stop(self):
        # A copy of deploy/ with its own secrets, made by the script an operator runs.
        work = os.path.join(self.tmp, "deploy")
        shutil.copytree(DEPLOY, work, ignore=shutil.ignore_patterns("secrets", "__pycache__"))
        compose_dir = os.path.join(work, "compose")
        r = subprocess.run(["bash", os.path.join(compose_dir, "make-secrets.sh")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        compose = yaml.safe_load(read(os.path.join(compose_dir, "compose.yaml")))
        secret_file = {name: os.path.normpath(os.path.join(compose_dir, spec["file"]))
                       for name, spec in compose["secrets"].items()}
        self.assertEqual(len(read(secret_file["compliance-checkpoint-key"], "rb")), 64)

        ports = {"postgres": self.start_postgres(
            secret_file["postgres-tls-cert"], secret_file["postgres-tls-key"],
            secret_file["postgres-superuser-password"], secret_file["postgres-init-passwords"],
            os.path.join(compose_dir, "postgres-init.sh"))}
        ports["redis"] = self.redis_port = self.start_redis(
            read(secret_file["redis-password"]).strip())
        for name in ORDER:
            ports[name] = free_port()

        def mapped(text):
            """A compose value with hosts, ports and secret paths of this machine."""
            text = str(text)
            for name in sorted(secret_file, key=len, reverse=True):
                text = text.replace(f"/run/secrets/{name}", secret_file[name])
            text = re.sub(r"\b(identity|scheduling|inventory|compliance|billing|postgres|console)"
                          r":\d+", lambda m: f"127.0.0.1:{ports[m.group(1)]}", text)
            text = text.replace("/usr/share/smp/console/web",
                                os.path.join(ROOT, "services", "console", "web"))
            if text.startswith("/var/lib/smp/"):
                text = os.path.join(self.tmp, "data", text[len("/var/lib/smp/"):])
            return text

        procs = {}
        for name in ORDER:
            svc = compose["services"][name]
            binary = svc["command"][0]
            argv = [os.path.join(BUILD, "services", binary, binary)]
            for arg in svc["command"][1:]:
                flag, _, value = arg[2:].partition("=")
                if flag == "metrics_listen":
                    value = f"127.0.0.1:{free_port()}"
                if flag == "data_dir":
                    self.image_user_dir(mapped(value))
                for f, v in self.redis_settings(binary, flag, value):
                    argv.append(f"--{f}={mapped(v)}")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SMP_", "SMPCTL_"))}
            env["HOME"] = self.tmp
            for k, v in (svc.get("environment") or {}).items():
                env[k] = mapped(v)
            env["SMP_LISTEN"] = f"127.0.0.1:{ports[name]}"
            procs[name] = self.start(AS_IMAGE_USER + argv, name, env)
            test = svc["healthcheck"]["test"]
            if test[1] == "smpctl":
                self.wait_health(name, procs[name], [self.smpctl_bin] + [
                    re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{ports[name]}", a)
                    for a in test[2:]], env)
            else:
                self.wait_https(name, procs[name], ports[name], secret_file["tls-ca"])

        self.operator_calls(os.path.join(compose_dir, "secrets", "tls"), ports,
                            os.path.join(self.tmp, "data", "identity", "identity-setup-code"))
        self.stop_all(procs)


if __name__ == "__main__":
    unittest.main()
