#!/usr/bin/env bash
# Installs and builds the two real apps of the end-to-end test (fixtures/apps): `npm ci`
# in each from its committed package-lock.json, and `npm run build` for SvelteKit.
# Idempotent and quick when nothing changed: a stamp beside each install records the
# hash of what it was made from (lockfile, Node version; for the build also the
# sources), and a step runs only when that hash differs. Uses the npm registry only.
set -euo pipefail
cd "$(dirname "$0")/.."
apps=fixtures/apps

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "apps.sh: node and npm are needed (Node.js >= 20.19 with npm); install Node.js first" >&2
  exit 1
fi
node_version=$(node --version)
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "apps.sh: Node.js $node_version is too old: the apps need >= 20.19" >&2
  exit 1
fi
# Vite 8's lockfile needs npm 11; a machine whose npm stayed at 10 gets it from the registry.
if [ "$(npm --version | cut -d. -f1)" -lt 11 ]; then
  echo "== npm $(npm --version) -> 11"
  npm install -g --no-audit --no-fund npm@11.19.1
fi

# Two runs at once would race on node_modules.
exec 9>"$apps/.apps.lock"
flock 9

hash_of() { # files... -> one sha256 over their names and contents, plus the Node version
  { echo "$node_version"; for f in "$@"; do echo "$f"; cat "$f"; done; } | sha256sum | cut -d' ' -f1
}

install() { # dir
  local dir=$1 want stamp="$1/node_modules/.parity-stamp"
  want=$(hash_of "$dir/package.json" "$dir/package-lock.json")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "== $dir: node_modules current"
    return
  fi
  echo "== $dir: npm ci"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

build_sveltekit() {
  local dir=$apps/sveltekit want stamp=$apps/sveltekit/build/.parity-stamp
  local sources
  sources=$(cd "$dir" && find src svelte.config.js vite.config.js package-lock.json -type f | LC_ALL=C sort)
  want=$(cd "$dir" && hash_of $sources ../data.json ../resources.js ../openapi.json)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dir/build/index.js" ]; then
    echo "== $dir: build current"
    return
  fi
  echo "== $dir: npm run build"
  (cd "$dir" && rm -rf build && npm run build --silent >build.log 2>&1) || {
    cat "$dir/build.log" >&2
    exit 1
  }
  echo "$want" >"$stamp"
}

install "$apps/sveltekit"
install "$apps/fastify"
build_sveltekit
