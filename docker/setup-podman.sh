#!/usr/bin/env bash
# Prepare this kind of machine (no Docker engine, no image registry, a TLS-intercepting
# egress proxy) to build and run the Dockerfile with podman. Idempotent; as root.
#   1. podman, buildah, runc, debootstrap from Debian (about 10-25 s, skipped when present)
#   2. $CTR_WORK/containers.conf: runtime runc (crun refuses this VM's hybrid cgroups) and
#      ulimits under the host's hard limits (root here lacks CAP_SYS_RESOURCE)
#   3. localhost/pybase: Debian bookworm + python3 from debootstrap, standing in for
#      python:3.11-slim; carries the proxy CA (this image only, never the Dockerfile).
#      Rebuilt only when the host's extra CA certificates change (about 40-80 s).
#   4. the CPU torch wheel in $CTR_WORK/wheels, mounted into the build at /opt/wheels
#      where the base image's PIP_FIND_LINKS points.
# Callers then `export CONTAINERS_CONF="$CTR_WORK/containers.conf"`.
# Facts and timings: ../shared/docs/containers.md.
set -euo pipefail

WORK=${CTR_WORK:-/var/tmp/summarizer-ctr}
BASE=${PYBASE_IMAGE:-localhost/pybase:latest}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
mkdir -p "$WORK/wheels"
log() { echo "[setup-podman +${SECONDS}s] $*"; }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing podman buildah runc debootstrap"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc debootstrap >/dev/null
fi

cat > "$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

ca_sum=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(podman image inspect "$BASE" --format '{{index .Labels "ca_sum"}}' 2>/dev/null)" != "$ca_sum" ]; then
  log "debootstrap $BASE"
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  root="$WORK/rootfs"
  rm -rf "$root"
  if ! debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -20 "$WORK/debootstrap.log"; exit 1
  fi
  # Like python:*-slim: `python`/`pip` on PATH and plain `pip install` allowed.
  rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
  ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
  ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$root" update-ca-certificates >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
  ca=/etc/ssl/certs/ca-certificates.crt
  tar -C "$root" -c . | podman import \
    --change "LABEL ca_sum=$ca_sum" --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV PIP_CERT=$ca" --change "ENV REQUESTS_CA_BUNDLE=$ca" --change "ENV SSL_CERT_FILE=$ca" \
    --change 'ENV PIP_FIND_LINKS=/opt/wheels' - "$BASE" >/dev/null
  rm -rf "$root"
fi

# PyPI serves a CPU torch wheel to these machines; keep one so builds do not fetch 190 MB each time.
if ! ls "$WORK"/wheels/torch-"$TORCH_VERSION"*.whl >/dev/null 2>&1; then
  log "downloading torch $TORCH_VERSION wheel"
  python3 -m pip download -q --no-deps "torch==$TORCH_VERSION" -d "$WORK/wheels"
fi
log "ready: base $BASE, wheels $WORK/wheels, CONTAINERS_CONF=$WORK/containers.conf"
