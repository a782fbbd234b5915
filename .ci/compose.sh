#!/usr/bin/env bash
# Brings up fixtures/deploy/compose.yaml with podman-compose — the stand-in backends'
# image in place of SvelteKit and Fastify, Prometheus built from Debian's binary
# (compose.ci.yaml) — and walks the guide's procedure: shadow mode, step 1 by editing
# .env, rollback by editing .env; parity's counts survive each recreation through its
# volume, and Prometheus scrapes its admin listener over the monitoring network.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
script=compose.sh
# shellcheck source=podman-lib.sh
. .ci/podman-lib.sh

work="$(mktemp -d)"
proj="parity-ci-$$"
parity_ctr="${proj}_parity_1"
podlog="$work/podman.log"
# This machine's podman needs runc; podman-compose reads the engine from here.
printf '[engine]\nruntime = "runc"\n' >"$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
# Clients' port on 127.0.0.1 only, chosen by the kernel.
export PARITY_PUBLISH="127.0.0.1:"
cp -r fixtures/deploy "$work/deploy"
cp -r fixtures/prometheus "$work/prometheus"
cd "$work/deploy"
compose() { podman-compose -p "$proj" -f compose.yaml -f compose.ci.yaml "$@" >>"$podlog" 2>&1; }
cleanup() {
  (cd "$work/deploy" && podman-compose -p "$proj" -f compose.yaml -f compose.ci.yaml down -v >/dev/null 2>&1) || true
  podman volume rm -f "${proj}_parity-state" "${proj}_prometheus-data" >/dev/null 2>&1 || true
  # podman-compose 1.0 leaves the project's networks behind.
  podman network rm -f "${proj}_edge" "${proj}_apps" "${proj}_monitoring" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# A command that fails outside a check says where, before cleanup runs.
trap 'echo "$script: line $LINENO: a command failed (exit $?)" >&2' ERR
port() { # SERVICE PORT: the host port published for it (a container just (re)started may not say yet)
  local p
  for _ in $(seq 1 50); do
    p=$(podman port "${proj}_$1_1" "$2/tcp" 2>>"$podlog" | head -n1 | sed 's/.*://') || true
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.2
  done
  return 1
}
# served_by PATH: which backend answered, by its Content-Type habit (SvelteKit's has
# no charset, Fastify's has one).
served_by() {
  local ct
  ct=$(curl -fsS "${auth[@]}" -o /dev/null -w '%{content_type}' "http://$public$1") || fail "GET $1 through parity failed"
  case "$ct" in
    "application/json") echo sveltekit ;;
    "application/json; charset=utf-8") echo fastify ;;
    *) echo "unknown ($ct)" ;;
  esac
}
wait_healthy() {
  for _ in $(seq 1 100); do
    if podman healthcheck run "${proj}_parity_1" >/dev/null 2>>"$podlog"; then
      public="127.0.0.1:$(port parity 8080)" || fail "parity's :8080 is not published"
      admin="127.0.0.1:$(port parity 9090)" || fail "parity's :9090 is not published"
      return 0
    fi
    sleep 0.2
  done
  fail "parity never became healthy"
}
compared() { curl -fsS "http://$admin/parity/report.json?histograms=0" | jq '[.routes[].compared] | add // 0'; }
set_env() { # FASTIFY_ENABLED FASTIFY_PROXY_ROUTES: edit .env as the guide says, then recreate parity
  sed -i "s|^FASTIFY_ENABLED=.*|FASTIFY_ENABLED=$1|; s|^FASTIFY_PROXY_ROUTES=.*|FASTIFY_PROXY_ROUTES=$2|" .env
  compose up -d --force-recreate --no-deps parity || fail "podman-compose up parity failed"
  wait_healthy
}

start=$(date +%s)
build_images parity standin prometheus
echo "-- images built in $(elapsed)"

start=$(date +%s)
compose up -d || fail "podman-compose up failed"
wait_healthy
api="127.0.0.1:$(port api 3001)" || fail "Fastify's :3001 is not published"
prom="127.0.0.1:$(port prometheus 9090)" || fail "Prometheus's :9090 is not published"
echo "-- stack up and parity healthy in $(elapsed)"

# Shadow mode (.env as shipped): SvelteKit serves, Fastify gets the mirror.
[ "$(served_by /api/health)" = sveltekit ] || fail "shadow mode: /api/health not served by SvelteKit"
for _ in 1 2 3 4 5; do served_by /api/sessions >/dev/null; done
for _ in $(seq 1 50); do
  [ "$(curl -fsS "http://$api/__standin/requests" | jq '."GET /api/sessions" // 0')" -ge 5 ] && break
  sleep 0.2
done
[ "$(curl -fsS "http://$api/__standin/requests" | jq '."GET /api/sessions" // 0')" -ge 5 ] || fail "Fastify did not receive the mirrored requests"
for _ in $(seq 1 50); do [ "$(compared)" -ge 6 ] && break; sleep 0.2; done
before=$(compared)
[ "$before" -ge 6 ] || fail "parity compared $before requests, want 6"
echo "-- shadow mode: served by SvelteKit, $before mirrored and compared"

# Step 1 of the guide, by editing .env.
set_env true /api/health,/api/healthz,/api/metrics
[ "$(served_by /api/health)" = fastify ] || fail "step 1: /api/health not served by Fastify"
[ "$(served_by /api/sessions)" = sveltekit ] || fail "step 1: /api/sessions not served by SvelteKit"
after=$(compared)
[ "$after" -ge "$before" ] || fail "the recreated parity lost its counts: $after compared, had $before"
echo "-- step 1 after editing .env: /api/health by Fastify, /api/sessions by SvelteKit; counts kept ($after)"

# Rollback, by editing .env.
set_env false /api/health,/api/healthz,/api/metrics
[ "$(served_by /api/health)" = sveltekit ] || fail "rollback: /api/health not served by SvelteKit"
echo "-- rollback after editing .env: /api/health by SvelteKit again"

# Prometheus scrapes parity's admin listener over the monitoring network.
up=""
for _ in $(seq 1 120); do
  up=$(curl -fsS "http://$prom/api/v1/query" --data-urlencode 'query=up{job="parity"}' | jq -r '.data.result[0].value[1] // empty' || true)
  [ "$up" = 1 ] && break
  sleep 0.5
done
[ "$up" = 1 ] || fail "Prometheus does not scrape parity (up=$up)"
rules=$(curl -fsS "http://$prom/api/v1/rules" | jq '[.data.groups[].rules[]] | length')
[ "$rules" -gt 0 ] || fail "Prometheus loaded no parity rules"
echo "-- Prometheus scrapes parity (up=1) with $rules rules loaded; done in $(elapsed)"
