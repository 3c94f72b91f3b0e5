# shellcheck shell=bash
# Helpers shared by the deploy/local/*.sh scripts; sourced, never run.

# Resolve the repo root from this file so the scripts work from any cwd.
LOCAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LOCAL_DIR/../.." && pwd)
export ROOT

log() { printf '%s: %s\n' "${LOG_TAG:-local}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_apt_updated=0
# ensure_cmd CMD DEBIAN_PACKAGE: install the package when CMD is missing and we
# may (root + apt-get); otherwise fail naming the package, since CI machines
# start empty and nobody installs anything by hand there.
ensure_cmd() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "'$cmd' not found, installing Debian package '$pkg'"
    apt_install "$pkg"
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' still missing after installing '$pkg'"
  else
    die "'$cmd' not found; install it with: sudo apt-get install -y $pkg"
  fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [[ $_apt_updated -eq 0 ]]; then
    apt-get update -qq >&2 || die "apt-get update failed"
    _apt_updated=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}
