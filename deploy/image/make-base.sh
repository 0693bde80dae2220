#!/usr/bin/env bash
# Makes the Debian 12 base image the Containerfile expects (debian:12-slim), from Debian's own
# packages with mmdebstrap, for machines that cannot pull base images. Run as root (or under
# `unshare`-capable user namespaces: mmdebstrap --mode=unshare) on a Debian machine with
# mmdebstrap and podman or docker:
#
#   sudo apt-get install mmdebstrap podman
#   sudo deploy/image/make-base.sh                 # imports it as localhost/smp-debian:12
#   podman build -f deploy/image/Containerfile --build-arg BASE=localhost/smp-debian:12 -t smp-suite:dev .
#
# Options (environment): SMP_BASE_TAG (localhost/smp-debian:12), SMP_BASE_MIRROR
# (http://deb.debian.org/debian), SMP_BASE_SUITE (bookworm), SMP_BASE_RUNTIME (podman or docker;
# the first found). Not run in CI (it downloads packages and needs a container runtime).
set -euo pipefail

tag="${SMP_BASE_TAG:-localhost/smp-debian:12}"
mirror="${SMP_BASE_MIRROR:-http://deb.debian.org/debian}"
suite="${SMP_BASE_SUITE:-bookworm}"
runtime="${SMP_BASE_RUNTIME:-}"
if [ -z "$runtime" ]; then
  for r in podman docker; do command -v "$r" >/dev/null && { runtime=$r; break; }; done
fi
command -v mmdebstrap >/dev/null || { echo "make-base: install mmdebstrap" >&2; exit 1; }
[ -n "$runtime" ] || { echo "make-base: install podman or docker" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# minbase: essential packages + apt, as debian:12-slim; the security and updates suites too, so
# the image starts patched. Docs, man pages and locales are left out (dpkg path excludes).
mmdebstrap --variant=minbase --format=tar \
  --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "$suite" "$work/rootfs.tar" \
  "deb $mirror $suite main" \
  "deb $mirror $suite-updates main" \
  "deb http://security.debian.org/debian-security $suite-security main"
"$runtime" import --change 'CMD ["bash"]' "$work/rootfs.tar" "$tag"
echo "make-base: $tag imported with $runtime; build with --build-arg BASE=$tag"
