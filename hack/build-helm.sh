#!/usr/bin/env bash
# Builds the helm CLI from its Go module (helm.sh/helm/v4, cmd/helm) and caches it per version, the way
# hack/build-control-plane.sh caches the control plane: no registry this project can reach ships helm binaries.
#
# Usage: hack/build-helm.sh     builds if missing; the last line on stdout is the path of the helm binary
# Env:   KEO_HELM_VERSION       helm version to build (default v4.3.2)
#        KEO_BIN_CACHE          cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/kube-endpoints-operator)
# Progress goes to stderr; stdout carries only the path, so `$(hack/build-helm.sh)` works.
set -euo pipefail

HELM_VERSION=${KEO_HELM_VERSION:-v4.3.2}
cache_root=${KEO_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-endpoints-operator}
out="$cache_root/bin/helm-$HELM_VERSION"
bin="$out/helm"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build-helm: Go is required to build helm (go not on PATH)" >&2; exit 1; }

mkdir -p "$cache_root/logs" "$out"
# One build per version at a time: a second caller waits for the first, then finds the binary in place.
exec 9>"$out.lock"
if ! flock -n 9; then
  echo "build-helm: another build of helm $HELM_VERSION is running; waiting for it" >&2
  flock 9
  if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
fi
log="$cache_root/logs/build-helm-$HELM_VERSION-$(date +%Y%m%dT%H%M%S).log"
work=$(mktemp -d "$cache_root/helm-wrapper.XXXXXX")
trap 'rm -rf "$work"' EXIT

started=$SECONDS
step() { printf '[helm %3ds] %s\n' $((SECONDS - started)) "$*" >&2; }
fail() { echo "build-helm: $1 failed; full log: $log" >&2; exit 1; }
run() { "$@" >>"$log" 2>&1; }

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

step "building helm $HELM_VERSION into $out (cold: a few minutes on 2 cores; log: $log)"
cd "$work"
run go mod init keo.local/helm || fail "go mod init"
step "downloading helm.sh/helm/v4@$HELM_VERSION and its dependencies"
run go get -tool "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" || fail "go get of helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
# helm reports its version from these variables (internal/version); without them `helm version` says v4.0-dev or so.
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
step "compiling helm"
run go build -trimpath -ldflags "$ldflags" -o "$bin.partial" helm.sh/helm/v4/cmd/helm || fail "compiling helm"
mv "$bin.partial" "$bin"
"$bin" version --short >>"$log" 2>&1 || fail "running the built helm"
step "done: helm $("$bin" version --short 2>/dev/null)"
echo "$bin"
