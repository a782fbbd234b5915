#!/usr/bin/env bash
# Builds parity's container image and a stand-in backend's (fixtures/deploy), runs
# them with podman in one network namespace of their own (reached from the host only
# through ports published on 127.0.0.1), and checks that parity serves from the
# primary, mirrors to the candidate, exposes /metrics, reports healthy, and on
# SIGTERM drains and writes its snapshot to its volume.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
script=container.sh
# shellcheck source=podman-lib.sh
. .ci/podman-lib.sh
# No systemd here to time the image's health check: the checks below run it.
parity_opts=("${run_opts[@]}" --health-interval disable)
id="parity-ci-$$"
parity_ctr="$id"
# podman's own complaints (no systemd here for health-check timers) go to a log,
# shown when something fails.
podlog="$(mktemp)"
pod() { podman "$@" 2>>"$podlog"; }
cleanup() {
  # The namespace's holder last: the others depend on it.
  podman rm -f -t 0 "$id" "$id-fastify" >/dev/null 2>&1 || true
  podman rm -f -t 0 "$id-net" >/dev/null 2>&1 || true
  podman volume rm -f "$id-state" >/dev/null 2>&1 || true
  rm -f "$podlog"
}
trap cleanup EXIT
# A command that fails outside a check says where, before cleanup runs.
trap 'echo "$script: line $LINENO: a command failed (exit $?)" >&2' ERR

start=$(date +%s)
build_images parity standin
echo "-- images built in $(elapsed)"

# The image is what the recipe promises: non-root, no shell, a health check.
[ "$(podman image inspect --format '{{.Config.User}}' localhost/parity:ci)" = "65532:65532" ] || fail "image does not run as 65532"
grep -q healthcheck <<<"$(podman image inspect --format '{{json .Config.Healthcheck}}' localhost/parity:ci)" || fail "image has no HEALTHCHECK"
if pod run --rm "${parity_opts[@]}" --entrypoint /bin/sh localhost/parity:ci -c true >/dev/null 2>&1; then
  fail "the image has a shell"
fi
grep -q '^parity ' <<<"$(pod run --rm "${parity_opts[@]}" localhost/parity:ci version)" || fail "parity version does not answer in the image"

start=$(date +%s)
# The SvelteKit stand-in holds the namespace and its published ports; Fastify and
# parity join it, so all three talk over its loopback.
pod run -d --name "$id-net" "${run_opts[@]}" -p 127.0.0.1::8080 -p 127.0.0.1::9090 -p 127.0.0.1::3000 -p 127.0.0.1::3001 \
  localhost/parity-standin:ci --backend sveltekit --listen :3000 >/dev/null
pod run -d --name "$id-fastify" "${run_opts[@]}" --network "container:$id-net" \
  localhost/parity-standin:ci --backend fastify --listen :3001 >/dev/null
podman volume create "$id-state" >/dev/null
pod run -d --name "$id" "${parity_opts[@]}" --network "container:$id-net" -v "$id-state:/var/lib/parity" \
  -e SVELTEKIT_URL=http://127.0.0.1:3000 -e FASTIFY_URL=http://127.0.0.1:3001 \
  localhost/parity:ci >/dev/null
port() { podman port "$id-net" "$1/tcp" | head -n1 | sed 's/.*://'; }
public="127.0.0.1:$(port 8080)" admin="127.0.0.1:$(port 9090)"
sveltekit="127.0.0.1:$(port 3000)" fastify="127.0.0.1:$(port 3001)"

healthy=""
for _ in $(seq 1 50); do
  if pod healthcheck run "$id" >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 0.2
done
[ -n "$healthy" ] || fail "the health check never passed"
echo "-- healthy in $(elapsed)"

# Serves: from SvelteKit (its Content-Type has no charset; Fastify's does).
ct=$(curl -fsS "${auth[@]}" -o /dev/null -w '%{content_type}' "http://$public/api/sessions") || fail "GET /api/sessions through parity failed"
[ "$ct" = "application/json" ] || fail "GET /api/sessions served with Content-Type $ct, want SvelteKit's application/json"
for path in /api/health /api/sessions /api/activity /api/v1/search?q=x /api/sessions/s1001 /api/auth/session; do
  for _ in 1 2 3 4; do curl -fsS "${auth[@]}" -o /dev/null "http://$public$path" || fail "GET $path through parity failed"; done
done

# Mirrors: the comparisons show on /metrics, and Fastify received the requests
# (never /api/auth).
compared=0
for _ in $(seq 1 50); do
  compared=$(curl -fsS "http://$admin/metrics" | awk '/^parity_comparisons_total/ {s += $NF} END {print s + 0}')
  [ "$compared" -ge 21 ] && break
  sleep 0.2
done
# 25 requests, of which the 4 under /api/auth are never mirrored.
[ "$compared" -eq 21 ] || fail "$compared comparisons on /metrics, want the 21 mirrored requests"
metrics=$(curl -fsS "http://$admin/metrics")
grep -q '^http_request_duration_seconds_count' <<<"$metrics" || fail "/metrics lacks http_request_duration_seconds"
grep -q '^parity_build_info{' <<<"$metrics" || fail "/metrics lacks parity_build_info"
seen=$(curl -fsS "http://$fastify/__standin/requests")
echo "$seen" | jq -e '."GET /api/sessions" >= 4' >/dev/null || fail "Fastify did not receive the mirrored GET /api/sessions: $seen"
echo "$seen" | jq -e 'keys | map(select(test("/api/auth"))) | length == 0' >/dev/null || fail "Fastify received /api/auth: $seen"
curl -fsS "http://$admin/readyz" >/dev/null || fail "/readyz not ready"
echo "-- served, mirrored ($compared comparisons), /metrics in $(elapsed)"

# Drains on SIGTERM within docker stop's 10 s: a request in flight when the signal
# comes (the primary answers it after 2 s) still gets its answer; then parity exits 0
# and leaves its snapshot.
inflight="$(mktemp)"
curl -sS -o "$inflight" -w '%{http_code}' "http://$public/__standin/slow?ms=2000" >"$inflight.code" 2>&1 &
curl_pid=$!
for _ in $(seq 1 50); do # until the primary holds it
  [ "$(curl -fsS "http://$sveltekit/__standin/slow/inflight")" = 1 ] && break
  sleep 0.1
done
[ "$(curl -fsS "http://$sveltekit/__standin/slow/inflight")" = 1 ] || fail "the slow request never reached the primary"
stop_start=$(date +%s%N)
pod stop -t 10 "$id" >/dev/null
wait "$curl_pid" || true
[ "$(cat "$inflight.code")" = 200 ] && grep -q 'slept 2000ms' "$inflight" ||
  fail "the request in flight at SIGTERM was cut: $(cat "$inflight.code") $(cat "$inflight")"
rm -f "$inflight" "$inflight.code"
stop_ms=$(( ($(date +%s%N) - stop_start) / 1000000 ))
code=$(podman inspect --format '{{.State.ExitCode}}' "$id")
[ "$code" = 0 ] || fail "parity exited $code on SIGTERM, want 0"
[ "$stop_ms" -lt 10000 ] || fail "stop took ${stop_ms}ms, over docker stop's 10 s"
logs=$(podman logs "$id" 2>&1)
grep -q '"message":"stopped"' <<<"$logs" || fail "no 'stopped' log line after SIGTERM"
snap=$(pod run --rm "${parity_opts[@]}" -v "$id-state:/var/lib/parity:ro" localhost/parity:ci \
  report --format json /var/lib/parity/snapshot.json) || fail "the snapshot on the volume does not read"
echo "$snap" | jq -e '[.routes[].compared] | add == 21' >/dev/null || fail "the snapshot does not hold the 21 compared requests"
echo "-- drained an in-flight request and stopped in ${stop_ms}ms with exit 0; snapshot on the volume has $(echo "$snap" | jq '[.routes[].compared] | add') compared"
