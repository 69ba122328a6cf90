# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts sourcing this
# Shared settings and helpers for tests/cluster/{up,down,smoke,build}. Sourced, not run.
#
# Everything the harness creates lives in one of two places outside the checkout:
#   $STILT_CLUSTER_CACHE  build cache (source, Go cache, binaries); survives `down`
#   $STILT_CLUSTER_STATE  one running cluster (certs, etcd data, kubelet root, logs, PIDs)
# and, in the shared Docker Engine, only images named stilt-cluster/* (labelled
# io.stilt.cluster=1) and the pod containers of this cluster's own kubelet.

K8S_VERSION=v1.20.2
K8S_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
# Debian bookworm's source package; its orig tarball is upstream's tree with vendor/.
K8S_DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
K8S_ORIG_TARBALL=kubernetes_1.20.5+really1.20.2.orig.tar.gz

CACHE=${STILT_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stilt-cluster}
STATE=${STILT_CLUSTER_STATE:-$CACHE/state}
CONTEXT=${STILT_CLUSTER_CONTEXT:-stilt-test}
BIN=$CACHE/bin/$K8S_VERSION
LOGS=$STATE/logs
PIDS=$STATE/pids
KUBECONFIG_PATH=$STATE/kubeconfig

API_PORT=${STILT_CLUSTER_API_PORT:-6443}
ETCD_PORT=${STILT_CLUSTER_ETCD_PORT:-2379}
ETCD_PEER_PORT=${STILT_CLUSTER_ETCD_PEER_PORT:-2380}
KUBELET_PORT=${STILT_CLUSTER_KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${STILT_CLUSTER_KUBELET_HEALTHZ_PORT:-10248}

# Images the harness builds. Named under stilt-cluster/ so they never collide with
# anybody else's images in the shared engine; the kubelet never pulls them.
PAUSE_IMAGE=stilt-cluster/pause:3.2
SMOKE_IMAGE=stilt-cluster/busybox:smoke
IMAGE_LABEL=io.stilt.cluster=1

SERVER_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet)

_T0=${_T0:-$(date +%s.%N)}
log() { printf '[%s %5.1fs] %s\n' "${0##*/}" "$(echo "$(date +%s.%N) - $_T0" | bc)" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Retry "$@" until it succeeds or $1 seconds pass. Usage: wait_for SECS WHAT cmd...
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
  log "$what"
}

kc() { kubectl --kubeconfig "$KUBECONFIG_PATH" --context "$CONTEXT" "$@"; }

# Is the process recorded for component $1 alive and really ours? A PID is trusted only
# if its command line still mentions $STATE (guards against a recycled PID).
component_pid() {
  local f=$PIDS/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE" || return 1
  echo "$pid"
}

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (the kubelet manages cgroups and mounts)"; }
