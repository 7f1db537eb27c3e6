#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from their Go modules and caches them per version.
#
# Why from source: no registry this project can reach ships these binaries, and envtest's own downloads are
# unreachable. k8s.io/kubernetes is not meant to be consumed as a module (its staging modules are required at
# v0.0.0), so we build from a throw-away wrapper module that pins every staging module to the matching v0.X.Y.
#
# Usage: hack/build-control-plane.sh            builds if missing, prints the directory holding the binaries
# Env:   KEO_KUBE_VERSION     Kubernetes version to build (default v1.37.2, the parity target; v1.36.x still builds,
#                             see docs/adr/0004). etcd follows the version that Kubernetes minor is released with.
#        KEO_ETCD_VERSION     overrides that etcd version
#        KUBEBUILDER_ASSETS   a directory already holding the three binaries: used as is, nothing is built
#        KEO_BIN_CACHE        cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/kube-endpoints-operator)
# Progress goes to stderr; stdout carries only the directory, so `$(hack/build-control-plane.sh)` works.
set -euo pipefail

KUBE_VERSION=${KEO_KUBE_VERSION:-v1.37.2}
# The etcd release each supported Kubernetes minor is tested with (its go.mod requires etcd 3.6 for 1.36, 3.7 for 1.37).
case "$KUBE_VERSION" in
  v1.36.*) default_etcd=v3.6.16 ;;
  v1.37.*) default_etcd=v3.7.4 ;;
  *) echo "build-control-plane: unsupported KEO_KUBE_VERSION=$KUBE_VERSION (supported: v1.36.x, v1.37.x)" >&2; exit 1 ;;
esac
ETCD_VERSION=${KEO_ETCD_VERSION:-$default_etcd}
BINARIES=(etcd kube-apiserver kube-controller-manager)

have_all() { local d=$1 b; for b in "${BINARIES[@]}"; do [ -x "$d/$b" ] || return 1; done; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && have_all "$KUBEBUILDER_ASSETS"; then
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi

cache_root=${KEO_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-endpoints-operator}
out="$cache_root/bin/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION"
if have_all "$out"; then echo "$out"; exit 0; fi

command -v go >/dev/null || { echo "build-control-plane: Go is required to build the control plane (go not on PATH)" >&2; exit 1; }

mkdir -p "$cache_root/logs" "$out"
# One build per version at a time: a second caller (two test runs on a cold cache) waits for the first, then finds the
# binaries in place.
exec 9>"$out.lock"
if ! flock -n 9; then
  echo "build-control-plane: another build of $KUBE_VERSION is running; waiting for it" >&2
  flock 9
  if have_all "$out"; then echo "$out"; exit 0; fi
fi
log="$cache_root/logs/build-$KUBE_VERSION-$(date +%Y%m%dT%H%M%S).log"
work=$(mktemp -d "$cache_root/wrapper.XXXXXX")
trap 'rm -rf "$work"' EXIT

started=$SECONDS
step() { printf '[control-plane %3ds] %s\n' $((SECONDS - started)) "$*" >&2; }
fail() { echo "build-control-plane: $1 failed; full log: $log" >&2; exit 1; }
run() { "$@" >>"$log" 2>&1; }

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

step "building Kubernetes $KUBE_VERSION and etcd $ETCD_VERSION into $out (cold: about 5-6 min on 2 cores, measured 322 s with empty Go caches; log: $log)"

# --- Kubernetes wrapper module -------------------------------------------------------------------------------------
kube="$work/kube"; mkdir -p "$kube"; cd "$kube"
step "resolving k8s.io/kubernetes@$KUBE_VERSION"
gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" 2>>"$log" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[ -n "$gomod" ] && [ -f "$gomod" ] || fail "resolving k8s.io/kubernetes@$KUBE_VERSION"
run go mod init keo.local/control-plane || fail "go mod init"
go_line=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod" | head -1)
godebug_line=$(sed -n 's/^godebug \(.*\)$/\1/p' "$gomod" | head -1)
[ -n "$go_line" ] && run go mod edit -go="$go_line"
[ -n "$godebug_line" ] && run go mod edit -godebug="$godebug_line"
# Staging modules are generated from that release's own replace block, never hand-listed: the set drifts by release.
# The k8s.io/sample-* examples are skipped: no command depends on them, and the proxy lacks some of their tags
# (sample-cli-plugin and sample-controller v0.37.2 answer 403).
staging_version="v0.${KUBE_VERSION#v1.}"
edits=(-require="k8s.io/kubernetes@$KUBE_VERSION")
while read -r mod; do
  case "$mod" in k8s.io/sample-*) continue ;; esac
  edits+=(-require="$mod@$staging_version" -replace="$mod=$mod@$staging_version")
done < <(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod")
[ ${#edits[@]} -gt 10 ] || fail "reading the staging module list of $KUBE_VERSION"
run go mod edit "${edits[@]}" || fail "go mod edit"
# Non-staging replace lines of k/k apply to the build too (replaces in a dependency are ignored otherwise).
while read -r from to; do
  run go mod edit -replace="$from=$to" || fail "go mod edit (replace $from)"
done < <(sed -n 's#^[[:space:]]*\([^ ]*\) => \([^ .][^ ]* v[^ ]*\)$#\1 \2#p' "$gomod" | sed 's/ \(v[^ ]*\)$/@\1/')
step "downloading Go modules for kube-apiserver and kube-controller-manager (network, ~1 GB)"
run go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBE_VERSION" \
  || fail "go get of the Kubernetes commands"

build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
for cmd in kube-apiserver kube-controller-manager; do
  step "compiling $cmd (the longest step)"
  run go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/$cmd.partial" "k8s.io/kubernetes/cmd/$cmd" \
    || fail "compiling $cmd"
  mv "$out/$cmd.partial" "$out/$cmd"
done

# --- etcd wrapper module (separate, so MVS cannot drag the kube binaries' grpc/otel versions along) ----------------
etcd="$work/etcd"; mkdir -p "$etcd"; cd "$etcd"
step "downloading and compiling etcd $ETCD_VERSION"
run go mod init keo.local/etcd || fail "go mod init (etcd)"
run go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" || fail "go get of etcd"
run go build -trimpath -ldflags "-s -w" -o "$out/etcd.partial" go.etcd.io/etcd/server/v3 || fail "compiling etcd"
mv "$out/etcd.partial" "$out/etcd"

"$out/kube-apiserver" --version >>"$log" 2>&1 || fail "running the built kube-apiserver"
step "done: $("$out/kube-apiserver" --version), $("$out/etcd" --version 2>/dev/null | head -1)"
echo "$out"
