#!/usr/bin/env bash
# Runs a command with Kafka, PostgreSQL and the OIDC provider up, and afterwards stops only what it
# started itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

started=()
"$here/kafka.sh" status >/dev/null 2>&1 || started+=(kafka)
"$here/postgres.sh" status >/dev/null 2>&1 || started+=(postgres)
"$here/oidc.sh" status >/dev/null 2>&1 || started+=(oidc)

cleanup() {
  for service in "${started[@]}"; do
    "$here/$service.sh" down || true
  done
}
trap cleanup EXIT

"$here/kafka.sh" up
"$here/postgres.sh" up
"$here/oidc.sh" up
"$here/browser.sh"
"$@"
