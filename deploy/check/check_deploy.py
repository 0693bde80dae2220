#!/usr/bin/env python3
"""Checks deploy/ offline, against the built binaries: what CI can check without a cluster,
a container runtime or systemd running.

  python3 deploy/check/check_deploy.py --build_dir build [--deploy_dir deploy] [--kubectl auto|never]

- every YAML file under deploy/ parses;
- the Kubernetes production overlay renders (a small kustomize in Python: resources, namespace,
  images, replicas, patches (strategic merge), secretGenerator with disableNameSuffixHash; when
  `kubectl` is on PATH its `kubectl kustomize` renders it too and the two must agree on the objects);
- every container running a binary of the suite uses only flags that binary's --helpfull lists
  (and SMP_<FLAG> environment variables of real flags), smpctl only its own flags;
- probes and health checks ask the port the service listens on (--listen / SMP_LISTEN), which the
  container declares; every Service's targetPort is a port its pods declare;
- every Secret and ConfigMap reference (env, envFrom, volumes, projected sources, CloudNativePG's
  passwordSecret) names an object the render defines (or CloudNativePG makes) and a key it holds;
  every secret file a flag names is provided by a mount;
- each Deployment has readiness and liveness probes, requests and limits, a PodDisruptionBudget and
  a HorizontalPodAutoscaler; every container runs non-root, read-only, without capabilities,
  without privilege escalation, under seccomp RuntimeDefault;
- NetworkPolicies allow every hop the flags imply (peer addresses, Redis Sentinel and Redis,
  PostgreSQL) as egress of the caller and ingress of the callee, and no other hop between the
  suite's own workloads;
- the compose file: flags as above, health checks on the listen port, peers and secrets defined,
  the suite's containers non-root, read-only, without capabilities or new privileges;
- the systemd units: the hardening directives, flags as above, every %d/<credential> loaded, and
  `systemd-analyze verify` clean on a copy whose ExecStart points at the built binaries;
- the Containerfile: multi-stage from debian:12-slim, a non-root USER, a HEALTHCHECK through
  smpctl health, every binary copied, and the runtime packages cover the binaries' NEEDED libraries.

Flags another branch is adding (deploy/check/pending_flags.txt) are reported, not failed, while the
binary lacks them. Exit status 0 when everything holds, 1 with one line per problem otherwise.
"""

import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit, parse_qs

import yaml

SERVICES = ["identity", "scheduling", "inventory", "compliance", "billing"]
BINARIES = SERVICES + ["console", "smpctl"]
# A client of Redis Sentinel also talks to the Redis servers the sentinels name.
IMPLIED_SERVICES = {"redis-sentinel": [("redis", 6379)]}
# Secrets CloudNativePG makes for a Cluster named C: C-<suffix>, with these keys.
CNPG_SECRETS = {
    "ca": ["ca.crt", "ca.key"],
    "server": ["tls.crt", "tls.key"],
    "replication": ["tls.crt", "tls.key"],
    "app": ["username", "password", "uri", "host", "port", "dbname", "pgpass", "jdbc-uri"],
    "superuser": ["username", "password"],
}
SECRET_FLAG = re.compile(r"(_file|^tls_cert|^tls_key|^tls_client_ca)$")
HARDENING = {
    "NoNewPrivileges": "yes",
    "PrivateTmp": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": None,
    "CapabilityBoundingSet": None,
    "SystemCallFilter": "@system-service",
    "RestrictAddressFamilies": None,
    "Restart": "on-failure",
    "LoadCredential": None,
}


class Problems:
    def __init__(self):
        self.items = []
        self.notes = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")

    def note(self, message):
        if message not in self.notes:
            self.notes.append(message)


# --- the binaries' flags -----------------------------------------------------------------------

class Flags:
    """The flags each built binary accepts, read from its own help output."""

    def __init__(self, build_dir, pending):
        self.build_dir = os.path.abspath(build_dir)
        self.pending = pending  # flag -> reason
        self.cache = {}
        self.smpctl_env = set()

    def path(self, binary):
        if binary == "smpctl":
            return os.path.join(self.build_dir, "tools", "smpctl", "smpctl")
        return os.path.join(self.build_dir, "services", binary, binary)

    def of(self, binary):
        if binary in self.cache:
            return self.cache[binary]
        path = self.path(binary)
        if not os.access(path, os.X_OK):
            raise SystemExit(f"check_deploy: {path} is not built (build the suite first)")
        if binary == "smpctl":
            text = subprocess.run([path, "help"], capture_output=True, text=True).stdout
            text += subprocess.run([path, "health", "--help"], capture_output=True,
                                   text=True).stdout
            names = set(re.findall(r"^\s+--([a-z0-9_]+)", text, re.M))
            self.smpctl_env = set(re.findall(r"env (SMPCTL_[A-Z_]+)", text))
        else:
            out = subprocess.run([path, "--helpfull"], capture_output=True, text=True)
            names = set(re.findall(r"^\s+--([a-z0-9_]+) \(", out.stdout + out.stderr, re.M))
        if not names:
            raise SystemExit(f"check_deploy: no flags read from {path}")
        self.cache[binary] = names
        return names

    def check(self, problems, where, binary, name):
        if name in self.of(binary):
            if name in self.pending:
                problems.note(f"{binary} now has --{name}: remove it from pending_flags.txt")
            return
        if name in self.pending:
            problems.note(f"--{name} is not in {binary} yet ({self.pending[name]}); "
                          "used anyway: pending_flags.txt")
            return
        problems.add(where, f"--{name} is not a flag of {binary}")


def split_flag(arg):
    """'--name=value' -> (name, value); '--name' -> (name, None); else None."""
    if not arg.startswith("--"):
        return None
    body = arg[2:]
    if "=" in body:
        name, value = body.split("=", 1)
        return name.replace("-", "_"), value
    return body.replace("-", "_"), None


def check_command(problems, flags, where, argv, env):
    """Checks a command line of the suite's binaries (argv[0] is the binary's name or path) and
    its SMP_*/SMPCTL_* environment. Returns {flag: value} of the service's effective settings
    (environment first, command line winning), or None when argv is not one of ours."""
    if not argv:
        return None
    binary = os.path.basename(str(argv[0]))
    if binary not in BINARIES:
        return None
    settings = {}
    if binary != "smpctl":
        for key, value in (env or {}).items():
            if key.startswith("SMP_"):
                name = key[4:].lower()
                flags.check(problems, f"{where} env {key}", binary, name)
                settings[name] = value
    else:
        flags.of("smpctl")
        for key in (env or {}):
            if key.startswith("SMPCTL_") and key not in flags.smpctl_env:
                problems.add(where, f"{key} is not an environment variable of smpctl")
    args = [str(a) for a in argv[1:]]
    if binary == "smpctl":
        words = [a for a in args if not a.startswith("-")]
        if words[:1] != ["health"]:
            problems.add(where, f"smpctl {' '.join(words)}: only `smpctl health` is expected here")
    for arg in args:
        parsed = split_flag(arg)
        if parsed is None:
            continue
        name, value = parsed
        flags.check(problems, where, binary, name)
        settings[name] = value if value is not None else "true"
    settings["__binary__"] = binary
    return settings


def port_of(address):
    if address is None:
        return None
    m = re.search(r":(\d+)$", str(address))
    return int(m.group(1)) if m else None


def host_of(address):
    address = str(address)
    return address.rsplit(":", 1)[0] if ":" in address else address


def peer_addresses(settings):
    """[(flag, host, port)] of every address of another component the settings name."""
    out = []
    for name, value in settings.items():
        if name.endswith("_address") and value:
            out.append((name, host_of(value), port_of(value)))
        elif name == "redis" and value:
            out.append((name, host_of(value), port_of(value)))
        elif name == "redis_sentinels" and value:
            for entry in str(value).split(","):
                entry = entry.strip()
                if entry:
                    out.append((name, host_of(entry), port_of(entry)))
        elif name == "database" and value and str(value).startswith("postgres"):
            url = urlsplit(str(value))
            out.append((name, url.hostname, url.port or 5432))
    return out


# --- YAML and kustomize --------------------------------------------------------------------------

def load_all(path, problems):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except (yaml.YAMLError, OSError) as e:
        problems.add(path, f"does not parse: {e}")
        return []


def strategic_merge(base, patch):
    """The part of a strategic merge patch the overlays use: maps merge; lists of maps with
    `name` merge by name; other lists and scalars are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = strategic_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if (isinstance(base, list) and isinstance(patch, list) and
            all(isinstance(x, dict) and "name" in x for x in base + patch)):
        out = [copy.deepcopy(x) for x in base]
        for item in patch:
            for i, existing in enumerate(out):
                if existing["name"] == item["name"]:
                    out[i] = strategic_merge(existing, item)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PersistentVolume", "StorageClass", "PriorityClass"}
KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches",
                "secretGenerator", "generatorOptions"}


def pod_spec(obj):
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj.get("spec", {}).get("template", {}).get("spec", {})
    if obj.get("kind") == "Pod":
        return obj.get("spec", {})
    return None


def kustomize(directory, problems, secret_files_required=False):
    """Renders the kustomization in `directory` (the subset named in KNOWN_FIELDS)."""
    path = os.path.join(directory, "kustomization.yaml")
    docs = load_all(path, problems)
    if not docs:
        problems.add(path, "no kustomization")
        return []
    k = docs[0]
    for field in k:
        if field not in KNOWN_FIELDS:
            problems.add(path, f"`{field}` is not in the subset check_deploy renders")
    objects = []
    for res in k.get("resources", []):
        full = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(full):
            objects += kustomize(full, problems, secret_files_required)
        elif os.path.isfile(full):
            objects += load_all(full, problems)
        else:
            problems.add(path, f"resource {res} does not exist")
    for gen in k.get("secretGenerator", []):
        if not k.get("generatorOptions", {}).get("disableNameSuffixHash"):
            problems.add(path, "secretGenerator without disableNameSuffixHash is not rendered here")
        data = {}
        for lit in gen.get("literals", []):
            key, _, value = lit.partition("=")
            data[key] = value
        for f in gen.get("files", []):
            key, _, src = f.partition("=")
            if not src:
                key, src = os.path.basename(f), f
            if secret_files_required and not os.path.exists(os.path.join(directory, src)):
                problems.add(path, f"secret file {src} is missing")
            data[key] = ""
        objects.append({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": gen["name"]},
                        "type": gen.get("type", "Opaque"), "data": data})
    for p in k.get("patches", []):
        if "path" not in p:
            problems.add(path, "only patches with `path` (strategic merge) are rendered here")
            continue
        for patch in load_all(os.path.join(directory, p["path"]), problems):
            matched = False
            for i, obj in enumerate(objects):
                if (obj.get("kind") == patch.get("kind") and
                        obj["metadata"]["name"] == patch["metadata"]["name"]):
                    objects[i] = strategic_merge(obj, patch)
                    matched = True
            if not matched:
                problems.add(path, f"patch {p['path']} matches no {patch.get('kind')} "
                                   f"{patch['metadata']['name']}")
    for r in k.get("replicas", []):
        hits = [o for o in objects if o.get("kind") in ("Deployment", "StatefulSet") and
                o["metadata"]["name"] == r["name"]]
        if not hits:
            problems.add(path, f"replicas: no workload {r['name']}")
        for o in hits:
            o["spec"]["replicas"] = r["count"]
    for img in k.get("images", []):
        used = False
        for o in objects:
            spec = pod_spec(o)
            if spec is None:
                continue
            for c in spec.get("containers", []) + spec.get("initContainers", []):
                name = c.get("image", "")
                base = re.split(r"[:@]", name)[0] if not name.startswith(img["name"] + ":") \
                    else img["name"]
                if base == img["name"]:
                    used = True
                    c["image"] = img.get("newName", img["name"]) + (
                        ":" + str(img["newTag"]) if "newTag" in img else "")
        if not used:
            problems.add(path, f"images: no container uses {img['name']}")
    if "namespace" in k:
        for o in objects:
            if o.get("kind") not in CLUSTER_SCOPED:
                o.setdefault("metadata", {})["namespace"] = k["namespace"]
    return objects


def object_key(o):
    return (o.get("kind"), o.get("metadata", {}).get("namespace"), o["metadata"]["name"])


def kubectl_render(overlay, problems):
    """`kubectl kustomize` of a copy of deploy/k8s with placeholder secret files; None when
    kubectl is not installed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    k8s_root = os.path.dirname(os.path.dirname(overlay))
    with tempfile.TemporaryDirectory() as tmp:
        copy_root = os.path.join(tmp, "k8s")
        shutil.copytree(k8s_root, copy_root)
        copy_overlay = os.path.join(copy_root, os.path.relpath(overlay, k8s_root))
        with open(os.path.join(copy_overlay, "kustomization.yaml")) as f:
            k = yaml.safe_load(f)
        for gen in k.get("secretGenerator", []):
            for spec in gen.get("files", []):
                src = spec.partition("=")[2] or spec
                full = os.path.join(copy_overlay, src)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                if not os.path.exists(full):
                    with open(full, "w") as f:
                        f.write("placeholder")
        out = subprocess.run([kubectl, "kustomize", copy_overlay], capture_output=True, text=True,
                             timeout=120)
    if out.returncode != 0:
        problems.add(overlay, f"kubectl kustomize fails: {out.stderr.strip()[:500]}")
        return []
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


# --- Kubernetes checks ---------------------------------------------------------------------------

def selects(selector, labels):
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        value = labels.get(e["key"])
        op = e["operator"]
        if op == "In" and value not in e.get("values", []):
            return False
        if op == "NotIn" and value in e.get("values", []):
            return False
        if op == "Exists" and e["key"] not in labels:
            return False
        if op == "DoesNotExist" and e["key"] in labels:
            return False
    return True


def env_settings(container, configmaps, secrets, problems, where):
    """The container's environment as {name: value}; ConfigMap values resolved; every reference
    checked."""
    env = {}
    for e in container.get("env", []) or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
            continue
        src = e.get("valueFrom", {})
        if "configMapKeyRef" in src:
            ref = src["configMapKeyRef"]
            cm = configmaps.get(ref["name"])
            if cm is None:
                problems.add(where, f"env {e['name']}: no ConfigMap {ref['name']}")
            elif ref["key"] not in (cm.get("data") or {}):
                problems.add(where, f"env {e['name']}: ConfigMap {ref['name']} has no key "
                                    f"{ref['key']}")
            else:
                env[e["name"]] = str(cm["data"][ref["key"]])
        elif "secretKeyRef" in src:
            ref = src["secretKeyRef"]
            if ref["name"] not in secrets:
                problems.add(where, f"env {e['name']}: no Secret {ref['name']}")
            elif ref["key"] not in secrets[ref["name"]]:
                problems.add(where, f"env {e['name']}: Secret {ref['name']} has no key {ref['key']}")
            env[e["name"]] = "<secret>"
    for ef in container.get("envFrom", []) or []:
        if "configMapRef" in ef:
            cm = configmaps.get(ef["configMapRef"]["name"])
            if cm is None:
                problems.add(where, f"envFrom: no ConfigMap {ef['configMapRef']['name']}")
            else:
                for k, v in (cm.get("data") or {}).items():
                    env.setdefault(k, str(v))
        if "secretRef" in ef and ef["secretRef"]["name"] not in secrets:
            problems.add(where, f"envFrom: no Secret {ef['secretRef']['name']}")
    return env


def volume_files(volume, configmaps, secrets, problems, where):
    """The files a configMap/secret/projected volume provides ({relative path}); every reference
    checked. None for other volume kinds."""
    def source(kind, name, items, table):
        obj = table.get(name)
        if obj is None:
            problems.add(where, f"volume {volume['name']}: no {kind} {name}")
            return set()
        keys = obj if isinstance(obj, (set, list)) else set((obj.get("data") or {}).keys())
        if not items:
            return set(keys)
        out = set()
        for it in items:
            if it["key"] not in keys:
                problems.add(where, f"volume {volume['name']}: {kind} {name} has no key "
                                    f"{it['key']}")
            out.add(it.get("path", it["key"]))
        return out
    if "secret" in volume:
        return source("Secret", volume["secret"]["secretName"], volume["secret"].get("items"),
                      secrets)
    if "configMap" in volume:
        return source("ConfigMap", volume["configMap"]["name"], volume["configMap"].get("items"),
                      configmaps)
    if "projected" in volume:
        files = set()
        for s in volume["projected"].get("sources", []):
            if "secret" in s:
                files |= source("Secret", s["secret"]["name"], s["secret"].get("items"), secrets)
            elif "configMap" in s:
                files |= source("ConfigMap", s["configMap"]["name"], s["configMap"].get("items"),
                                configmaps)
        return files
    return None


def container_ports(container):
    return {p["containerPort"]: p.get("name") for p in container.get("ports", []) or []}


def probe_port(probe, where, problems, flags):
    """The port a probe asks, or None (with a problem) when it cannot tell."""
    if "grpc" in probe:
        return probe["grpc"]["port"]
    if "httpGet" in probe:
        return probe["httpGet"]["port"]
    if "tcpSocket" in probe:
        return probe["tcpSocket"]["port"]
    if "exec" in probe:
        argv = probe["exec"]["command"]
        settings = check_command(problems, flags, where, argv, {})
        if settings is None or settings.get("__binary__") != "smpctl":
            problems.add(where, "an exec probe of a service must be `smpctl health --address=...`")
            return None
        return port_of(settings.get("address"))
    problems.add(where, "probe of an unknown kind")
    return None


def check_security(container, pod_sc, where, problems):
    sc = container.get("securityContext") or {}

    def get(key):
        return sc.get(key, pod_sc.get(key))
    if get("runAsNonRoot") is not True:
        problems.add(where, "runAsNonRoot is not true")
    if get("runAsUser") == 0:
        problems.add(where, "runs as uid 0")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.add(where, "readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.add(where, "allowPrivilegeEscalation is not false")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problems.add(where, "capabilities do not drop ALL")
    if (get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.add(where, "seccompProfile is not RuntimeDefault")
    res = container.get("resources") or {}
    for part in ("requests", "limits"):
        if "memory" not in (res.get(part) or {}):
            problems.add(where, f"no memory {part}")


def check_k8s(objects, flags, problems, where_prefix):
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o.get("kind"), []).append(o)
    names = {}
    for o in objects:
        key = object_key(o)
        if key in names:
            problems.add(where_prefix, f"{key[0]} {key[2]} is defined twice")
        names[key] = o
    configmaps = {o["metadata"]["name"]: o for o in by_kind.get("ConfigMap", [])}
    secrets = {o["metadata"]["name"]: set((o.get("data") or {}).keys()) |
               set((o.get("stringData") or {}).keys()) for o in by_kind.get("Secret", [])}
    clusters = {o["metadata"]["name"] for o in by_kind.get("Cluster", [])
                if o.get("apiVersion", "").startswith("postgresql.cnpg.io/")}
    for c in clusters:
        for suffix, keys in CNPG_SECRETS.items():
            secrets.setdefault(f"{c}-{suffix}", set(keys))
    for o in by_kind.get("Cluster", []):
        for role in ((o.get("spec") or {}).get("managed") or {}).get("roles", []) or []:
            ref = (role.get("passwordSecret") or {}).get("name")
            if ref and ref not in secrets:
                problems.add(f"{where_prefix} Cluster {o['metadata']['name']}",
                             f"role {role['name']}: no Secret {ref}")
            elif ref and not {"username", "password"} <= secrets[ref]:
                problems.add(f"{where_prefix} Cluster {o['metadata']['name']}",
                             f"role {role['name']}: Secret {ref} lacks username/password")
    for o in by_kind.get("Database", []):
        cluster = ((o.get("spec") or {}).get("cluster") or {}).get("name")
        if cluster not in clusters:
            problems.add(f"{where_prefix} Database {o['metadata']['name']}",
                         f"no Cluster {cluster}")

    workloads = []  # (name, labels, settings per container, declared ports)
    for o in objects:
        spec = pod_spec(o)
        if spec is None:
            continue
        wname = f"{o['kind']} {o['metadata']['name']}"
        where = f"{where_prefix} {wname}"
        labels = o["spec"].get("template", {}).get("metadata", {}).get("labels", {}) or {}
        if not selects(o["spec"].get("selector"), labels) and o["kind"] != "Pod":
            problems.add(where, "selector does not select its own pod template")
        pod_sc = spec.get("securityContext") or {}
        volumes = {v["name"]: v for v in spec.get("volumes", []) or []}
        files = {n: volume_files(v, configmaps, secrets, problems, f"{where}")
                 for n, v in volumes.items()}
        for v in volumes.values():
            pvc = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if pvc and not any(p["metadata"]["name"] == pvc
                               for p in by_kind.get("PersistentVolumeClaim", [])):
                problems.add(where, f"volume {v['name']}: no PersistentVolumeClaim {pvc}")
        for t in (o["spec"].get("volumeClaimTemplates") or []):
            volumes[t["metadata"]["name"]] = {"name": t["metadata"]["name"], "pvc": True}
            files[t["metadata"]["name"]] = None
        # Files an init container copies into an emptyDir it shares with the main containers.
        copied = {}
        for ic in spec.get("initContainers", []) or []:
            mounted = [m["name"] for m in ic.get("volumeMounts", []) or []]
            provided = set()
            for m in mounted:
                if files.get(m):
                    provided |= files[m]
            for m in mounted:
                if "emptyDir" in volumes.get(m, {}):
                    copied.setdefault(m, set()).update(provided)
        settings_list = []
        ports = set()
        for kind, containers in (("initContainers", spec.get("initContainers", []) or []),
                                 ("containers", spec.get("containers", []) or [])):
            for c in containers:
                cwhere = f"{where} container {c['name']}"
                check_security(c, pod_sc, cwhere, problems)
                mounts = []
                for m in c.get("volumeMounts", []) or []:
                    if m["name"] not in volumes:
                        problems.add(cwhere, f"mount of undefined volume {m['name']}")
                    mounts.append((m["mountPath"].rstrip("/"), m["name"]))
                env = env_settings(c, configmaps, secrets, problems, cwhere)
                argv = list(c.get("command") or []) + list(c.get("args") or [])
                settings = check_command(problems, flags, cwhere, argv, env)
                declared = container_ports(c)
                ports |= set(declared)
                if settings is None or kind == "initContainers":
                    continue
                settings_list.append(settings)
                listen = port_of(settings.get("listen"))
                if listen is None:
                    problems.add(cwhere, "no --listen / SMP_LISTEN with a port")
                elif listen not in declared:
                    problems.add(cwhere, f"listens on {listen} but declares ports "
                                         f"{sorted(declared)}")
                metrics = port_of(settings.get("metrics_listen"))
                if metrics is not None and metrics not in declared:
                    problems.add(cwhere, f"metrics on {metrics} but declares ports "
                                         f"{sorted(declared)}")
                if o["kind"] == "Deployment":
                    for probe_name in ("readinessProbe", "livenessProbe"):
                        if probe_name not in c:
                            problems.add(cwhere, f"no {probe_name}")
                # A native grpc probe has no client certificate, so it must ask the plaintext
                # health-only port (--health_listen); the other kinds ask --listen.
                health = port_of(settings.get("health_listen"))
                if health is not None and health not in declared:
                    problems.add(cwhere, f"health port {health} but declares ports "
                                         f"{sorted(declared)}")
                for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                    if probe_name in c:
                        port = probe_port(c[probe_name], f"{cwhere} {probe_name}", problems, flags)
                        if isinstance(port, str):
                            port = next((p for p, n in declared.items() if n == port), None)
                        if "grpc" in c[probe_name]:
                            if health is None:
                                problems.add(cwhere, f"{probe_name} is a grpc probe but there is "
                                                     "no --health_listen / SMP_HEALTH_LISTEN")
                            elif port is not None and port != health:
                                problems.add(cwhere, f"{probe_name} asks port {port}, the health "
                                                     f"port is {health}")
                        elif port is not None and listen is not None and port != listen:
                            problems.add(cwhere, f"{probe_name} asks port {port}, the service "
                                                 f"listens on {listen}")
                # Every secret file a flag names must be provided by a mount.
                paths = [(n, v) for n, v in settings.items()
                         if SECRET_FLAG.search(n) and v and str(v).startswith("/")]
                db = settings.get("database")
                if db and str(db).startswith("postgres"):
                    for v in parse_qs(urlsplit(str(db)).query).get("sslrootcert", []):
                        paths.append(("database sslrootcert", v))
                for flag, path in paths:
                    best = max((m for m in mounts if path.startswith(m[0] + "/")),
                               key=lambda m: len(m[0]), default=None)
                    if best is None:
                        problems.add(cwhere, f"--{flag}={path}: no volume mounted there")
                        continue
                    rel = path[len(best[0]) + 1:]
                    provided = files.get(best[1])
                    if provided is None and best[1] in copied:
                        provided = copied[best[1]]
                    if provided is not None and rel not in provided:
                        problems.add(cwhere, f"--{flag}={path}: volume {best[1]} provides no "
                                             f"{rel}")
        workloads.append({"name": wname, "kind": o["kind"], "obj": o, "labels": labels,
                          "settings": settings_list, "ports": ports,
                          "namespace": o["metadata"].get("namespace")})

    # Deployments: a PodDisruptionBudget and a HorizontalPodAutoscaler each.
    for w in workloads:
        if w["kind"] != "Deployment" or not w["settings"]:
            continue
        name = w["obj"]["metadata"]["name"]
        if not any(selects(p["spec"].get("selector"), w["labels"])
                   for p in by_kind.get("PodDisruptionBudget", [])):
            problems.add(f"{where_prefix} {w['name']}", "no PodDisruptionBudget selects it")
        if not any((h["spec"].get("scaleTargetRef") or {}).get("name") == name and
                   (h["spec"].get("scaleTargetRef") or {}).get("kind") == "Deployment"
                   for h in by_kind.get("HorizontalPodAutoscaler", [])):
            problems.add(f"{where_prefix} {w['name']}", "no HorizontalPodAutoscaler targets it")
    for h in by_kind.get("HorizontalPodAutoscaler", []):
        ref = h["spec"].get("scaleTargetRef") or {}
        if not any(w["obj"]["metadata"]["name"] == ref.get("name") and w["kind"] == ref.get("kind")
                   for w in workloads):
            problems.add(f"{where_prefix} HorizontalPodAutoscaler {h['metadata']['name']}",
                         f"targets no {ref.get('kind')} {ref.get('name')}")

    # Services: targetPorts the selected pods declare.
    services = {o["metadata"]["name"]: o for o in by_kind.get("Service", [])}
    for s in services.values():
        selected = [w for w in workloads if selects({"matchLabels": s["spec"].get("selector")},
                                                     w["labels"])]
        if not selected:
            problems.add(f"{where_prefix} Service {s['metadata']['name']}", "selects no pods")
        for p in s["spec"].get("ports", []):
            target = p.get("targetPort", p["port"])
            if isinstance(target, int) and selected and not any(target in w["ports"]
                                                                 for w in selected):
                problems.add(f"{where_prefix} Service {s['metadata']['name']}",
                             f"targetPort {target} is no port of its pods")

    # Hops the flags imply, and the NetworkPolicies that must allow them.
    def targets(host, port):
        """[(workload, port)] a host:port of a container reaches, or None if unknown."""
        host = host.split(".")
        if clusters and host[0].rsplit("-", 1)[0] in clusters and \
                host[0].rsplit("-", 1)[-1] in ("rw", "ro", "r"):
            cluster = host[0].rsplit("-", 1)[0]
            return [(w, port) for w in workloads if w["labels"].get("cnpg.io/cluster") == cluster] \
                or [({"name": f"Cluster {cluster}", "labels": {"cnpg.io/cluster": cluster},
                      "settings": []}, port)]
        # name, or pod.name (a StatefulSet's pod through its headless Service)
        for candidate in (host[0], host[1] if len(host) > 1 else None):
            if candidate in services:
                svc = services[candidate]
                out = []
                for p in svc["spec"].get("ports", []):
                    if p["port"] == port:
                        tp = p.get("targetPort", p["port"])
                        out += [(w, tp) for w in workloads
                                if selects({"matchLabels": svc["spec"].get("selector")},
                                           w["labels"])]
                return out
        return None

    hops = set()
    hop_list = []
    for w in workloads:
        for settings in w["settings"]:
            for flag, host, port in peer_addresses(settings):
                reached = targets(host, port)
                if reached is None:
                    problems.add(f"{where_prefix} {w['name']}", f"--{flag}: no Service {host}")
                    continue
                if not reached:
                    problems.add(f"{where_prefix} {w['name']}",
                                 f"--{flag}: Service {host} has no port {port}")
                    continue
                extra = []
                base = host.split(".")
                for svc_name in (base[0], base[1] if len(base) > 1 else None):
                    for implied, implied_port in IMPLIED_SERVICES.get(svc_name, []):
                        extra += targets(implied, implied_port) or []
                for dst, dport in reached + extra:
                    hop_list.append((w, dst, dport, flag))
                    hops.add((w["name"], dst["name"], dport))
    policies = by_kind.get("NetworkPolicy", [])

    def peer_matches(peer, labels):
        if "ipBlock" in peer or "namespaceSelector" in peer:
            return False
        return selects(peer.get("podSelector"), labels)

    def allowed(direction, pod_labels, other_labels, port):
        selecting = [p for p in policies if selects(p["spec"].get("podSelector"), pod_labels) and
                     direction in (p["spec"].get("policyTypes") or ["Ingress"])]
        if not selecting:
            return True
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        for p in selecting:
            for rule in p["spec"].get(key, []) or []:
                peers = rule.get(peers_key)
                if peers is not None and not any(peer_matches(x, other_labels) for x in peers):
                    continue
                rule_ports = rule.get("ports")
                if rule_ports is None or any(rp.get("port") in (None, port) for rp in rule_ports):
                    return True
        return False

    if policies:
        for src, dst, port, flag in hop_list:
            where = f"{where_prefix} NetworkPolicy"
            if not allowed("Egress", src["labels"], dst["labels"], port):
                problems.add(where, f"{src['name']} -> {dst['name']}:{port} (--{flag}) is not "
                                    f"allowed as egress of {src['name']}")
            if not allowed("Ingress", dst["labels"], src["labels"], port):
                problems.add(where, f"{src['name']} -> {dst['name']}:{port} (--{flag}) is not "
                                    f"allowed as ingress of {dst['name']}")
        # No hop between the suite's own services beyond those the flags imply.
        ours = [w for w in workloads if w["settings"]]
        for src in ours:
            for dst in ours:
                if src is dst:
                    continue
                for port in sorted(dst["ports"]):
                    if (allowed("Egress", src["labels"], dst["labels"], port) and
                            allowed("Ingress", dst["labels"], src["labels"], port) and
                            (src["name"], dst["name"], port) not in hops):
                        problems.add(f"{where_prefix} NetworkPolicy",
                                     f"allows {src['name']} -> {dst['name']}:{port}, which no "
                                     f"flag of {src['name']} uses")
    elif workloads:
        problems.add(where_prefix, "no NetworkPolicy")
    return hops


# --- compose -------------------------------------------------------------------------------------

def check_compose(path, flags, problems):
    docs = load_all(path, problems)
    if not docs:
        return
    compose = docs[0]
    services = compose.get("services") or {}
    top_secrets = set((compose.get("secrets") or {}).keys())
    top_volumes = set((compose.get("volumes") or {}).keys())
    compose_dir = os.path.dirname(path)
    for name, spec in (compose.get("secrets") or {}).items():
        if "file" not in spec and "environment" not in spec and not spec.get("external"):
            problems.add(path, f"secret {name} has no source")
    listens = {}
    settings_of = {}
    for name, svc in services.items():
        where = f"{path} service {name}"
        for dep in (svc.get("depends_on") or {}):
            if dep not in services:
                problems.add(where, f"depends_on {dep}, which is not a service")
        mounted_secrets = {}
        for s in svc.get("secrets", []) or []:
            src = s if isinstance(s, str) else s["source"]
            target = (f"/run/secrets/{src}" if isinstance(s, str)
                      else s.get("target", f"/run/secrets/{src}"))
            if not target.startswith("/"):
                target = f"/run/secrets/{target}"
            if src not in top_secrets:
                problems.add(where, f"secret {src} is not defined")
            mounted_secrets[target] = src
        for v in svc.get("volumes", []) or []:
            source = v.split(":")[0] if isinstance(v, str) else v.get("source")
            if source and not source.startswith((".", "/")) and source not in top_volumes:
                problems.add(where, f"volume {source} is not defined")
            if source and source.startswith("."):
                if not os.path.exists(os.path.join(compose_dir, source)):
                    problems.add(where, f"bind mount {source} does not exist")
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        command = svc.get("command")
        if isinstance(command, str):
            command = command.split()
        settings = check_command(problems, flags, where, command or [],
                                 {k: str(v) for k, v in env.items()})
        if settings is None:
            continue
        settings_of[name] = settings
        if svc.get("read_only") is not True:
            problems.add(where, "read_only is not true")
        if "ALL" not in (svc.get("cap_drop") or []):
            problems.add(where, "cap_drop does not drop ALL")
        if str(svc.get("user", "root")).split(":")[0] in ("root", "0"):
            problems.add(where, "runs as root (no user:)")
        if "no-new-privileges:true" not in (svc.get("security_opt") or []):
            problems.add(where, "no security_opt no-new-privileges:true")
        listen = port_of(settings.get("listen"))
        listens[name] = listen
        if listen is None:
            problems.add(where, "no --listen / SMP_LISTEN with a port")
        for flag, value in settings.items():
            if SECRET_FLAG.search(flag) and value and str(value).startswith("/run/secrets/"):
                if value not in mounted_secrets:
                    problems.add(where, f"--{flag}={value}: no such secret mounted")
        db = settings.get("database")
        if db and str(db).startswith("postgres"):
            for v in parse_qs(urlsplit(str(db)).query).get("sslrootcert", []):
                if v.startswith("/run/secrets/") and v not in mounted_secrets:
                    problems.add(where, f"--database sslrootcert={v}: no such secret mounted")
        hc = (svc.get("healthcheck") or {}).get("test")
        if not hc:
            problems.add(where, "no healthcheck")
        else:
            argv = hc[1:] if hc[0] in ("CMD", "CMD-SHELL") else hc
            if os.path.basename(str(argv[0])) == "smpctl":
                hs = check_command(problems, flags, f"{where} healthcheck", argv,
                                   {k: str(v) for k, v in env.items()})
                port = port_of(hs.get("address")) if hs else None
            else:
                m = re.search(r"/dev/tcp/[^/]+/(\d+)", " ".join(map(str, argv)))
                port = int(m.group(1)) if m else None
            if port != listen:
                problems.add(where, f"healthcheck asks port {port}, the service listens on "
                                    f"{listen}")
    for name, settings in settings_of.items():
        where = f"{path} service {name}"
        for flag, host, port in peer_addresses(settings):
            if host not in services:
                problems.add(where, f"--{flag}: no service {host}")
            elif host in listens and listens[host] != port:
                problems.add(where, f"--{flag}: {host} listens on {listens[host]}, not {port}")


# --- systemd -------------------------------------------------------------------------------------

def parse_unit(path):
    """[(section, key, value)] with continuation lines joined."""
    entries = []
    section = None
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def check_systemd(directory, flags, problems, analyze="auto"):
    units = sorted(f for f in os.listdir(directory) if f.endswith((".service", ".target")))
    if not units:
        problems.add(directory, "no units")
        return
    rendered = tempfile.mkdtemp(prefix="smp-units-")
    try:
        for unit in units:
            path = os.path.join(directory, unit)
            entries = parse_unit(path)
            text = open(path).read()
            if unit.endswith(".service"):
                keys = {}
                for section, key, value in entries:
                    if section == "Service":
                        keys.setdefault(key, []).append(value)
                for key, want in HARDENING.items():
                    if key not in keys:
                        problems.add(path, f"no {key}=")
                    elif want is not None and want not in keys[key]:
                        problems.add(path, f"{key}= is not {want}")
                if "User" not in keys and keys.get("DynamicUser") != ["yes"]:
                    problems.add(path, "no User= or DynamicUser=yes")
                if not any(v.startswith("yes") or v in ("read-only", "tmpfs")
                           for v in keys.get("ProtectHome", [])):
                    problems.add(path, "ProtectHome= is not yes/read-only/tmpfs")
                if keys.get("CapabilityBoundingSet") not in ([""], None):
                    problems.add(path, "CapabilityBoundingSet= is not empty")
                credentials = {v.split(":", 1)[0] for v in keys.get("LoadCredential", [])}
                for v in keys.get("LoadCredential", []):
                    if ":" not in v:
                        problems.add(path, f"LoadCredential={v} names no source file")
                exec_start = keys.get("ExecStart", [""])[0].split()
                settings = check_command(problems, flags, path, exec_start, {})
                if settings is None:
                    problems.add(path, "ExecStart runs no binary of the suite")
                else:
                    for flag, value in settings.items():
                        if value and str(value).startswith("%d/") and \
                                value[3:] not in credentials:
                            problems.add(path, f"--{flag}={value}: no LoadCredential={value[3:]}")
                binary = os.path.basename(exec_start[0]) if exec_start else ""
                if binary in BINARIES and "data_dir" in flags.of(binary) and \
                        "StateDirectory" not in keys:
                    problems.add(path, "no StateDirectory= (the service keeps data)")
                if binary in BINARIES:
                    text = text.replace(exec_start[0], flags.path(binary))
            with open(os.path.join(rendered, unit), "w") as f:
                f.write(text)
        tool = shutil.which("systemd-analyze")
        if tool is None or analyze == "never":
            problems.note("systemd-analyze not run (not installed or --systemd_analyze=never)")
            return
        # One run over every unit (they name each other); each line is charged to the unit it
        # names. A unit this machine lacks (redis-server.service in CI) is not the units' fault.
        out = subprocess.run([tool, "verify", "--man=no"] +
                             [os.path.join(rendered, u) for u in units],
                             capture_output=True, text=True, timeout=120)
        lines = [l for l in (out.stdout + out.stderr).splitlines() if l.strip() and
                 "not found" not in l and "Failed to create" not in l]
        for line in lines:
            unit = next((u for u in units if f"/{u}:" in line or line.startswith(f"{u}:")),
                        None)
            problems.add(os.path.join(directory, unit or ""), f"systemd-analyze verify: {line}")
        if out.returncode != 0 and not lines:
            problems.add(directory, f"systemd-analyze verify exits {out.returncode}")
    finally:
        shutil.rmtree(rendered, ignore_errors=True)


# --- Containerfile -------------------------------------------------------------------------------

def check_containerfile(path, repo_root, flags, problems):
    try:
        text = open(path).read()
    except OSError as e:
        problems.add(path, str(e))
        return
    joined = re.sub(r"\\\n", " ", text)
    lines = [l.strip() for l in joined.splitlines() if l.strip() and not l.strip().startswith("#")]
    froms = [l for l in lines if l.upper().startswith("FROM ")]
    if len(froms) < 2:
        problems.add(path, "not multi-stage (wants a build stage and a runtime stage)")
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", joined, re.M))
    for f in froms:
        image = f.split()[1]
        m = re.fullmatch(r"\$\{?(\w+)\}?", image)
        image = args.get(m.group(1), image) if m else image
        if image != "debian:12-slim":
            problems.add(path, f"{f}: expects debian:12-slim as base")
    runtime = joined[joined.rfind("\nFROM "):] if "\nFROM " in joined else joined
    users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.add(path, "the image does not end with a non-root USER")
    hc = [l for l in lines if l.upper().startswith("HEALTHCHECK ")]
    if not hc or "smpctl health" not in hc[-1]:
        problems.add(path, "no HEALTHCHECK through `smpctl health`")
    else:
        m = re.search(r"smpctl health (.*)$", hc[-1])
        for tok in m.group(1).split():
            parsed = split_flag(tok)
            if parsed:
                flags.check(problems, f"{path} HEALTHCHECK", "smpctl", parsed[0])
    for l in lines:
        if l.upper().startswith("COPY ") and "--from=" not in l:
            for src in l.split()[1:-1]:
                if not os.path.exists(os.path.join(repo_root, src)):
                    problems.add(path, f"COPY {src}: not in the repository")
    for b in BINARIES:
        if not re.search(rf"/{b}/{b}\b" if b != "smpctl" else r"/smpctl/smpctl\b", joined):
            problems.add(path, f"{b} is not copied into the image")
    # The runtime packages must provide every library the binaries link directly.
    m = re.search(r"apt-get install[^&]*?--no-install-recommends((?:\s+[a-z0-9.+-]+)+)", runtime)
    packages = set(m.group(1).split()) if m else set()
    if not packages:
        problems.add(path, "no runtime apt-get install found")
        return
    readelf, dpkg = shutil.which("readelf"), shutil.which("dpkg")
    if readelf is None or dpkg is None:
        problems.note("readelf/dpkg missing: runtime libraries not compared with the binaries")
        return
    base = {"libc6", "libgcc-s1", "libstdc++6"}  # in debian:12-slim
    owners_of = {}
    for b in BINARIES:
        out = subprocess.run([readelf, "-d", flags.path(b)], capture_output=True, text=True)
        for lib in re.findall(r"\(NEEDED\).*\[(.+)\]", out.stdout):
            if lib not in owners_of:
                found = subprocess.run(["sh", "-c", f"dpkg -S '*/{lib}' 2>/dev/null"],
                                       capture_output=True, text=True).stdout
                owners_of[lib] = {x.split(":")[0] for x in found.splitlines() if ":" in x}
            owners = owners_of[lib]
            if not owners:
                problems.note(f"{b}: no Debian package owns {lib}")
                continue
            if not owners & (packages | base):
                problems.add(path, f"{b} needs {lib} ({', '.join(sorted(owners))}), which the "
                                   "runtime stage does not install")


def compare_with_kubectl(overlay, overlay_objects, problems):
    theirs = kubectl_render(overlay, problems)
    if theirs is None:
        problems.note("kubectl not installed: the Python render alone was checked")
        return
    mine = {object_key(o) for o in overlay_objects}
    other = {object_key(o) for o in theirs}
    for k in sorted(mine ^ other, key=str):
        problems.add("k8s/overlays/production",
                     f"{k} differs between check_deploy's render and kubectl kustomize")
    theirs_by_key = {object_key(o): o for o in theirs}
    for o in overlay_objects:
        t = theirs_by_key.get(object_key(o))
        if t is not None and o.get("kind") != "Secret" and o.get("spec") != t.get("spec"):
            problems.add("k8s/overlays/production",
                         f"{object_key(o)}: spec differs from kubectl kustomize")
    problems.note(f"kubectl kustomize renders the same {len(other)} objects")


# --- main ----------------------------------------------------------------------------------------

def read_pending(path):
    pending = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.split("#", 1)
            name = line[0].strip()
            if name:
                pending[name] = line[1].strip() if len(line) > 1 else "pending"
    return pending


PARTS = ("yaml", "k8s", "compose", "systemd", "image")


def run(deploy_dir, build_dir, kubectl="auto", systemd_analyze="auto",
        secret_files_required=False, parts=PARTS):
    """Checks the parts of `deploy_dir` named in `parts`; returns the Problems found."""
    problems = Problems()
    repo_root = os.path.dirname(os.path.abspath(deploy_dir))
    flags = Flags(build_dir, read_pending(os.path.join(deploy_dir, "check", "pending_flags.txt")))
    if "yaml" in parts:
        for root, _, files in os.walk(deploy_dir):
            if os.sep + "secrets" in root:
                continue
            for f in files:
                if f.endswith((".yaml", ".yml")):
                    load_all(os.path.join(root, f), problems)
    if "k8s" in parts:
        k8s = os.path.join(deploy_dir, "k8s")
        base = os.path.join(k8s, "base")
        overlay = os.path.join(k8s, "overlays", "production")
        # The base alone: it renders and its flags are real; its Secrets come from the overlay.
        base_problems = Problems()
        check_k8s(kustomize(base, problems), flags, base_problems, "k8s/base")
        problems.items += [p for p in base_problems.items
                           if "is not a flag" in p or "is not an environment variable" in p]
        problems.notes += base_problems.notes
        overlay_objects = kustomize(overlay, problems, secret_files_required)
        hops = check_k8s(overlay_objects, flags, problems, "k8s/overlays/production")
        problems.note(f"k8s: {len(overlay_objects)} objects rendered, {len(hops)} hops allowed "
                      "by the NetworkPolicies checked")
        if kubectl != "never":
            compare_with_kubectl(overlay, overlay_objects, problems)
    if "compose" in parts:
        check_compose(os.path.join(deploy_dir, "compose", "compose.yaml"), flags, problems)
    if "systemd" in parts:
        check_systemd(os.path.join(deploy_dir, "systemd"), flags, problems, systemd_analyze)
    if "image" in parts:
        check_containerfile(os.path.join(deploy_dir, "image", "Containerfile"), repo_root, flags,
                            problems)
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build_dir", required=True)
    parser.add_argument("--deploy_dir", default=os.path.dirname(here))
    parser.add_argument("--kubectl", choices=["auto", "never"], default="auto")
    parser.add_argument("--systemd_analyze", choices=["auto", "never"], default="auto")
    parser.add_argument("--secret_files_required", action="store_true",
                        help="fail when a secretGenerator file is missing (before a real apply)")
    a = parser.parse_args()
    problems = run(a.deploy_dir, a.build_dir, a.kubectl, a.systemd_analyze,
                   a.secret_files_required)
    for n in problems.notes:
        print(f"note: {n}")
    for p in problems.items:
        print(f"FAIL {p}")
    if problems.items:
        print(f"check_deploy: {len(problems.items)} problem(s)")
        return 1
    print("check_deploy: deploy/ is consistent with the built binaries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
