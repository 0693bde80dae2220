#!/usr/bin/env python3
"""The Kubernetes production overlay's pods, run for real without a cluster: k8s/make-secrets.sh
fills the overlay's secret files in a copy of deploy/; the overlay is rendered (check_deploy's
kustomize); for each Deployment of the suite its projected Secret volume is laid out as the kubelet
does (files root-owned, group fsGroup, 0440, reached through `..data` symlinks), its init container
`secrets` runs its own command as uid 10001, then its container runs with its own command, args
and environment (ConfigMap values resolved), Service host names and ports mapped to free loopback
ports. Against a real PostgreSQL 15 with TLS (standing in for CloudNativePG's `smp-pg-rw`, its
certificate from the chain CA) and redis-server: every service answers its readiness probe's
`smpctl health`, the console its page over HTTPS, and an operator's calls make inventory reach
identity and scheduling over mutual TLS as svc.inventory. The Sentinel flags point at a local
sentinel; while the binaries lack them (pending_flags.txt) --redis replaces them. Runs as root; SMP_BUILD_DIR names the build."""

import os
import re
import shutil
import subprocess
import sys
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_deploy  # noqa: E402
from compose_smoke_test import (AS_IMAGE_USER, BUILD, DEPLOY, ORDER, ROOT, SmokeStack,  # noqa: E402
                                free_port, read)

def env_var(flag):
    """The environment variable of a flag (README, "Configuration")."""
    return "SMP_" + flag.upper()


SERVICE_HOSTS = r"\b(identity|scheduling|inventory|compliance|billing|console|smp-pg-rw):\d+"


class KubernetesPods(SmokeStack):
    def test_production_pods_start_serve_call_each_other_and_stop(self):
        work = os.path.join(self.tmp, "deploy")
        shutil.copytree(DEPLOY, work, ignore=shutil.ignore_patterns("secrets", "__pycache__"))
        overlay = os.path.join(work, "k8s", "overlays", "production")
        r = subprocess.run(["bash", os.path.join(work, "k8s", "make-secrets.sh")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        secrets_dir = os.path.join(overlay, "secrets")
        tls = os.path.join(secrets_dir, "tls")
        # PostgreSQL's server certificate from the same chain CA (CloudNativePG makes its own CA
        # in a cluster; here the chain CA stands in for smp-pg-ca).
        r = subprocess.run(["bash", os.path.join(work, "make-certs.sh"), "--dir", tls,
                            "--services", "postgres"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

        problems = check_deploy.Problems()
        objects = check_deploy.kustomize(overlay, problems, secret_files_required=True)
        self.assertEqual(problems.items, [])
        configmaps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
        secret_keys = {o["metadata"]["name"]: set(o["data"]) for o in objects
                       if o["kind"] == "Secret"}
        secret_keys["smp-pg-ca"] = {"ca.crt"}

        # (Secret, key) -> the file the overlay's secretGenerator reads (or a literal, written).
        kustomization = yaml.safe_load(read(os.path.join(overlay, "kustomization.yaml")))
        source = {("smp-pg-ca", "ca.crt"): os.path.join(tls, "ca.pem")}
        literals = os.path.join(self.tmp, "literals")
        os.makedirs(literals)
        for gen in kustomization["secretGenerator"]:
            for spec in gen.get("files", []):
                key, _, path = spec.partition("=")
                source[(gen["name"], key)] = os.path.join(overlay, path)
            for spec in gen.get("literals", []):
                key, _, value = spec.partition("=")
                path = os.path.join(literals, f"{gen['name']}.{key}")
                with open(path, "w") as f:
                    f.write(value)
                source[(gen["name"], key)] = path

        # CloudNativePG's part: a role and a database per service with the Secret's password.
        init_passwords = os.path.join(self.tmp, "db-passwords")
        with open(init_passwords, "w") as f:
            for s in ORDER[:-1]:
                f.write(f"{s} {read(source[(f'smp-db-{s}', 'password')]).strip()}\n")
        superuser = os.path.join(self.tmp, "pg-superuser")
        with open(superuser, "w") as f:
            f.write(os.urandom(16).hex())
        ports = {"smp-pg-rw": self.start_postgres(
            os.path.join(tls, "postgres.pem"), os.path.join(tls, "postgres.key"), superuser,
            init_passwords, os.path.join(work, "compose", "postgres-init.sh"))}
        ports["redis"] = self.redis_port = self.start_redis(
            read(source[("smp-redis", "password")]).strip())
        for name in ORDER:
            ports[name] = free_port()

        procs = {}
        for name in ORDER:
            deployment = next(o for o in objects
                              if o["kind"] == "Deployment" and o["metadata"]["name"] == name)
            spec = deployment["spec"]["template"]["spec"]
            pod = os.path.join(self.tmp, "pods", name)
            mounts = {}  # mountPath -> a directory of this machine
            for volume in spec["volumes"]:
                where = os.path.join(pod, volume["name"])
                if "projected" in volume:
                    # As the kubelet lays it out: ..data/<file> (root, group fsGroup, 0440) and
                    # a symlink per file.
                    data = os.path.join(where, "..data")
                    os.makedirs(data)
                    for src in volume["projected"]["sources"]:
                        ref = src["secret"]
                        for item in ref["items"]:
                            self.assertIn(item["key"], secret_keys[ref["name"]])
                            target = os.path.join(data, item["path"])
                            shutil.copy(source[(ref["name"], item["key"])], target)
                            os.chown(target, 0, spec["securityContext"]["fsGroup"])
                            os.chmod(target, volume["projected"]["defaultMode"])
                            os.symlink(os.path.join("..data", item["path"]),
                                       os.path.join(where, item["path"]))
                else:  # emptyDir: writable by the pod's user
                    self.image_user_dir(where)
                mounts[volume["name"]] = where

            def mapped(text, container, name=name, mounts=mounts):
                text = str(text)
                paths = {m["mountPath"]: mounts[m["name"]] for m in container["volumeMounts"]}
                # One pass, longest mount first: /run/smp's new path must not meet /tmp's.
                text = re.sub("|".join(re.escape(p) + r"(?=/|$|\s|;|\")"
                                       for p in sorted(paths, key=len, reverse=True)),
                              lambda m: paths[m.group(0)], text)
                text = re.sub(SERVICE_HOSTS, lambda m: f"127.0.0.1:{ports[m.group(1)]}", text)
                return text.replace("/usr/share/smp/console/web",
                                    os.path.join(ROOT, "services", "console", "web"))

            for init in spec.get("initContainers", []):
                r = subprocess.run(AS_IMAGE_USER + [mapped(a, init) for a in init["command"]],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, f"{name} init {init['name']}: {r.stderr}")

            container = spec["containers"][0]
            binary = container["command"][0]
            argv = [os.path.join(BUILD, "services", binary, binary)]
            for arg in container.get("args", []):
                flag, _, value = arg[2:].partition("=")
                if flag == "metrics_listen":
                    value = f"127.0.0.1:{free_port()}"
                argv.append(f"--{flag}={mapped(value, container)}")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SMP_", "SMPCTL_"))}
            env["HOME"] = mounts.get("data", self.tmp)
            resolved = check_deploy.env_settings(container, configmaps, secret_keys, problems,
                                                 name)
            self.assertEqual(problems.items, [])
            for key, value in resolved.items():
                if not key.startswith("SMP_"):
                    env[key] = mapped(value, container)
                    continue
                for flag, v in self.redis_settings(binary, key[4:].lower(), value):
                    env[env_var(flag)] = mapped(v, container)
            env["SMP_LISTEN"] = f"127.0.0.1:{ports[name]}"
            probe = container["readinessProbe"]
            if "grpc" in probe:
                health_port = free_port()
                env["SMP_HEALTH_LISTEN"] = f"127.0.0.1:{health_port}"
            procs[name] = self.start(AS_IMAGE_USER + argv, name, env)
            if "grpc" in probe:
                # What the kubelet does: plaintext Health/Check, no client certificate.
                plain = {k: v for k, v in env.items() if not k.startswith("SMPCTL_")}
                self.wait_health(name, procs[name], [
                    self.smpctl_bin, "health", "--timeout=2s",
                    f"--address=127.0.0.1:{health_port}"], plain)
            elif "exec" in probe:
                self.wait_health(name, procs[name], [self.smpctl_bin] + [
                    re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{ports[name]}", a)
                    for a in probe["exec"]["command"][1:]], env)
            else:
                self.assertEqual(probe["httpGet"]["scheme"], "HTTPS")
                self.wait_https(name, procs[name], ports[name], os.path.join(tls, "ca.pem"))

        self.operator_calls(tls, {s: ports[s] for s in ORDER},
                            os.path.join(self.tmp, "pods", "identity", "data",
                                         "identity-setup-code"))
        self.stop_all(procs)


if __name__ == "__main__":
    unittest.main()
