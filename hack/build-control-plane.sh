#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from their Go modules and caches them per version.
#
# Why from source: no registry this project can reach ships these binaries, and envtest's own downloads are
# unreachable. k8s.io/kubernetes is not meant to be consumed as a module (its staging modules are required at
# v0.0.0), so we build from a throw-away wrapper module that pins every staging module to the matching v0.X.Y.
#
# Usage: hack/build-control-plane.sh            builds if missing, prints the directory holding the binaries
#        hack/build-control-plane.sh --data-plane  also kube-proxy (same Kubernetes version) and coredns, into the same
#                                                  directory (the data plane of test/dataplane and the playground)
# Env:   KEO_KUBE_VERSION     Kubernetes version to build (default v1.37.2, the parity target; v1.36.x still builds,
#                             see docs/adr/0004). etcd follows the version that Kubernetes minor is released with.
#        KEO_ETCD_VERSION     overrides that etcd version
#        KUBEBUILDER_ASSETS   a directory already holding the three binaries: used as is, nothing is built
#        KEO_COREDNS_VERSION  CoreDNS module version built with --data-plane (default v1.15.0: Go 1.26, client-go 0.37)
#        KEO_BIN_CACHE        cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/kube-endpoints-operator)
# Progress goes to stderr; stdout carries only the directory, so `$(hack/build-control-plane.sh)` works.
set -euo pipefail

KUBE_VERSION=${KEO_KUBE_VERSION:-v1.37.2}
# The client and staging modules (k8s.io/api, client-go, ...) of a Kubernetes release carry its version as v0.X.Y.
staging_version="v0.${KUBE_VERSION#v1.}"
# The etcd release each supported Kubernetes minor is tested with (its go.mod requires etcd 3.6 for 1.36, 3.7 for 1.37).
case "$KUBE_VERSION" in
  v1.36.*) default_etcd=v3.6.16 ;;
  v1.37.*) default_etcd=v3.7.4 ;;
  *) echo "build-control-plane: unsupported KEO_KUBE_VERSION=$KUBE_VERSION (supported: v1.36.x, v1.37.x)" >&2; exit 1 ;;
esac
ETCD_VERSION=${KEO_ETCD_VERSION:-$default_etcd}
COREDNS_VERSION=${KEO_COREDNS_VERSION:-v1.15.0}
# The three control-plane binaries are the contract every test relies on; --data-plane adds two more to the same
# directory, each built only when missing (a cached control plane is not rebuilt).
BINARIES=(etcd kube-apiserver kube-controller-manager)
KUBE_COMMANDS=(kube-apiserver kube-controller-manager)
data_plane=false
for arg in "$@"; do
  case "$arg" in
    --data-plane) data_plane=true; BINARIES+=(kube-proxy coredns); KUBE_COMMANDS+=(kube-proxy) ;;
    *) echo "build-control-plane: unknown argument $arg (known: --data-plane)" >&2; exit 1 ;;
  esac
done

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

missing=(); for b in "${BINARIES[@]}"; do [ -x "$out/$b" ] || missing+=("$b"); done
step "building ${missing[*]} (Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION$($data_plane && echo ", CoreDNS $COREDNS_VERSION")) into $out (cold: about 5-6 min on 2 cores, measured 322 s with empty Go caches; log: $log)"
is_missing() { local b; for b in "${missing[@]}"; do [ "$b" = "$1" ] && return 0; done; return 1; }
kube_missing=(); for cmd in "${KUBE_COMMANDS[@]}"; do is_missing "$cmd" && kube_missing+=("$cmd"); done

if [ ${#kube_missing[@]} -gt 0 ]; then

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
step "downloading Go modules for ${kube_missing[*]} (network, ~1 GB when cold)"
tools=(); for cmd in "${kube_missing[@]}"; do tools+=("k8s.io/kubernetes/cmd/$cmd@$KUBE_VERSION"); done
run go get -tool "${tools[@]}" || fail "go get of the Kubernetes commands"

build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
for cmd in "${kube_missing[@]}"; do
  step "compiling $cmd$([ "$cmd" = kube-proxy ] || echo ' (the longest step)')"
  run go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/$cmd.partial" "k8s.io/kubernetes/cmd/$cmd" \
    || fail "compiling $cmd"
  mv "$out/$cmd.partial" "$out/$cmd"
done
fi

# --- etcd wrapper module (separate, so MVS cannot drag the kube binaries' grpc/otel versions along) ----------------
if is_missing etcd; then
etcd="$work/etcd"; mkdir -p "$etcd"; cd "$etcd"
step "downloading and compiling etcd $ETCD_VERSION"
run go mod init keo.local/etcd || fail "go mod init (etcd)"
run go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" || fail "go get of etcd"
run go build -trimpath -ldflags "-s -w" -o "$out/etcd.partial" go.etcd.io/etcd/server/v3 || fail "compiling etcd"
mv "$out/etcd.partial" "$out/etcd"
fi

# --- CoreDNS wrapper module: a main with only the plugins the data plane uses ---------------------------------------
# CoreDNS's own main imports every plugin (cloud SDKs included); this one registers the few a cluster DNS needs, in
# the execution order of CoreDNS's core/dnsserver/zdirectives.go.
if is_missing coredns; then
coredns="$work/coredns"; mkdir -p "$coredns"; cd "$coredns"
step "downloading and compiling CoreDNS $COREDNS_VERSION (kubernetes, forward, cache, errors, health, ready, loadbalance, log)"
run go mod init keo.local/coredns || fail "go mod init (coredns)"
cat >main.go <<'GO'
// CoreDNS with the plugins of a cluster DNS only. Generated by hack/build-control-plane.sh.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	if err := dnsserver.SetDirectives([]string{"ready", "health", "errors", "log", "loadbalance", "cache", "kubernetes", "forward"}); err != nil {
		panic(err)
	}
	coremain.Run()
}
GO
# From Kubernetes 1.37 on (CoreDNS v1.15 requires client-go 0.37.1), the client modules at the version kube-proxy was
# just built with, so most of client-go comes compiled from the Go build cache.
client_pins=()
kube_minor=${KUBE_VERSION#v1.}; kube_minor=${kube_minor%%.*}
if [ "$kube_minor" -ge 37 ]; then
  client_pins=("k8s.io/api@$staging_version" "k8s.io/apimachinery@$staging_version" "k8s.io/client-go@$staging_version")
fi
run go get "github.com/coredns/coredns@$COREDNS_VERSION" "${client_pins[@]}" || fail "go get of coredns"
run go mod tidy || fail "go mod tidy (coredns)"
run go build -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o "$out/coredns.partial" . \
  || fail "compiling coredns"
mv "$out/coredns.partial" "$out/coredns"
"$out/coredns" -plugins >>"$log" 2>&1 || fail "running the built coredns"
fi

"$out/kube-apiserver" --version >>"$log" 2>&1 || fail "running the built kube-apiserver"
step "done: $("$out/kube-apiserver" --version), $("$out/etcd" --version 2>/dev/null | head -1)$($data_plane && echo ", $("$out/kube-proxy" --version), $("$out/coredns" -version 2>/dev/null | head -1)")"
echo "$out"
