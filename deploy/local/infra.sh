#!/usr/bin/env bash
# All local infrastructure the services and their tests need: PostgreSQL and
# Kafka, both on 127.0.0.1. Idempotent; see postgres.sh and kafka.sh.
#
# Usage: deploy/local/infra.sh {up|down|restart|status}
#   KAFKA_BROKERS=3 for a three-broker cluster (see kafka.sh); `down` without it
#   stops whichever of ours runs, the single broker and the cluster.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PGPORT=${POSTGRES_PORT:-${PGPORT:-5432}}
export PGPORT

endpoints() {
  echo "kafka $("$HERE/kafka.sh" bootstrap)"
  echo "postgresql postgresql://ozg:ozg@127.0.0.1:$PGPORT/<db>" \
    "(ozg_zufi ozg_submission ozg_kop_gateway ozg_payment ozg_mailbox ozg_common_test)"
}

case ${1:-} in
  up | start)
    # PostgreSQL first: it is quick, and apt-get (if needed) runs one at a time.
    "$HERE/postgres.sh" up
    "$HERE/kafka.sh" up
    endpoints
    ;;
  down | stop)
    # Try both even if the first fails, but report failure.
    rc=0
    if [[ -n ${KAFKA_BROKERS:-} ]]; then
      "$HERE/kafka.sh" down || rc=1
    else
      KAFKA_BROKERS=1 "$HERE/kafka.sh" down || rc=1
      KAFKA_BROKERS=3 "$HERE/kafka.sh" down || rc=1
    fi
    "$HERE/postgres.sh" down || rc=1
    exit "$rc"
    ;;
  restart)
    "$0" down
    "$0" up
    ;;
  status)
    rc=0
    "$HERE/postgres.sh" status || rc=1
    "$HERE/kafka.sh" status || rc=1
    exit "$rc"
    ;;
  *)
    echo "usage: $0 {up|down|restart|status}" >&2
    exit 2
    ;;
esac
