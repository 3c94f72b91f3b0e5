#!/usr/bin/env bash
# All local infrastructure the services and their tests need: PostgreSQL and
# Kafka, both on 127.0.0.1. Idempotent; see postgres.sh and kafka.sh.
#
# Usage: deploy/local/infra.sh {up|down|restart|status}
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PGPORT=${PGPORT:-5432}
KAFKA_PORT=${KAFKA_PORT:-9092}
export PGPORT KAFKA_PORT

endpoints() {
  echo "kafka 127.0.0.1:$KAFKA_PORT"
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
    "$HERE/kafka.sh" down || rc=1
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
