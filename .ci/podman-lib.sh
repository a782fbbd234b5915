# Shared by .ci/container.sh and .ci/compose.sh (sourced, from the repository root).
# The caller sets: script (its name, for messages), podlog (where podman's own
# stderr goes), parity_ctr (parity's container, whose log a failure shows).

# This machine's podman: runc, and ulimits below the host's.
run_opts=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# The stand-ins answer only authenticated portal requests.
auth=(-H "Authorization: Bearer ci-token")

# fail MESSAGE: says what failed, with podman's and parity's last words, and exits 1.
fail() {
  echo "$script: $*" >&2
  tail -n 20 "$podlog" >&2 || true
  podman logs "$parity_ctr" 2>&1 | tail -n 30 >&2 || true
  exit 1
}

# elapsed: seconds since $start.
elapsed() { echo "$(( $(date +%s) - start ))s"; }

# build_images NAME...: the images of fixtures/deploy/build-image.sh, tagged :ci.
build_images() {
  local what tag
  for what in "$@"; do
    case "$what" in
      parity) tag=localhost/parity:ci ;;
      *) tag="localhost/parity-$what:ci" ;;
    esac
    "$root/fixtures/deploy/build-image.sh" "$what" "$tag" >/dev/null
  done
}
