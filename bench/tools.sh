#!/usr/bin/env bash
# Load generators the benchmarks prefer, built once into .cache/bench-tools/ (gitignored), then reused.
#   bench/tools.sh vegeta    prints the path of the vegeta binary, building it first if missing
# Needs Go and its module proxy on the first call only; exits non-zero (and prints why) otherwise,
# and the benchmark falls back to its Python load generator.
set -euo pipefail

VEGETA_VERSION=v12.13.0

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.cache/bench-tools/bin"

case "${1:-}" in
vegeta)
	tool="$bin/vegeta-$VEGETA_VERSION"
	if [[ ! -x $tool ]]; then
		command -v go >/dev/null || {
			echo "tools.sh: go is not installed, cannot build vegeta" >&2
			exit 1
		}
		mkdir -p "$bin"
		build=$(mktemp -d)
		trap 'rm -rf "$build"' EXIT
		echo "tools.sh: building vegeta $VEGETA_VERSION (once)" >&2
		GOBIN="$build" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" >&2
		mv "$build/vegeta" "$tool"
	fi
	echo "$tool"
	;;
*)
	echo "usage: $0 vegeta" >&2
	exit 2
	;;
esac
