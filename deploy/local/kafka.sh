#!/usr/bin/env bash
# Apache Kafka (KRaft, broker+controller in one JVM per node) for local
# development and tests. No Docker and no tarball download: the broker jars come
# from Maven Central via deploy/local/kafka/pom.xml, cached in .cache/kafka.
#
# Usage: deploy/local/kafka.sh {up|down|restart|status|bootstrap|kill N...|start-node N...|wipe}
#   KAFKA_BROKERS          1 (default): one broker; 3: a cluster of three nodes,
#                          replication factor 3, min.insync.replicas 2
#   KAFKA_PORT_BASE        client port of broker 1, broker N on base+N-1
#                          (default KAFKA_PORT, else 9092: 9092-9094 for three)
#   KAFKA_CONTROLLER_PORT  one broker: its KRaft controller port (default base+1)
#   KAFKA_CONTROLLER_PORT_BASE  cluster: controller of broker N on this+N-1 (default base+100)
#   KAFKA_STATE_DIR        config, data and logs (default var/kafka; cluster: var/kafka-cluster)
#   KAFKA_START_TIMEOUT    seconds to wait for the brokers (default 90)
#   KAFKA_SASL_SSL_PORT    one broker: also a SASL_SSL listener (TLS, SCRAM-SHA-512 login) on this
#                          port, as a data centre's brokers have. Made at start-up when missing, in
#                          STATE/tls: ca.pem (what clients trust), the broker's keystore, a client
#                          certificate (client.pem, client.key) the broker accepts.
#   KAFKA_SASL_USER        the SCRAM user created when the storage is formatted (default ozg);
#   KAFKA_SASL_PASSWORD    its password (default: random, kept in STATE/tls/sasl.password)
set -euo pipefail

LOG_TAG=kafka
# shellcheck source=deploy/local/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

POM=$LOCAL_DIR/kafka/pom.xml
CACHE=$ROOT/.cache/kafka
LIBS=$CACHE/libs
BROKERS=${KAFKA_BROKERS:-1}
[[ $BROKERS =~ ^[1-9]$ ]] || die "KAFKA_BROKERS must be a number from 1 to 9, not '$BROKERS'"
PORT_BASE=${KAFKA_PORT_BASE:-${KAFKA_PORT:-9092}}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
if ((BROKERS == 1)); then
  STATE=${KAFKA_STATE_DIR:-$ROOT/var/kafka}
  CONTROLLER_PORT_BASE=${KAFKA_CONTROLLER_PORT:-$((PORT_BASE + 1))}
  HEAP=(-Xms256m -Xmx512m)
else
  STATE=${KAFKA_STATE_DIR:-$ROOT/var/kafka-cluster}
  # Clear of the client ports, and of a single broker's controller (client port + 1).
  CONTROLLER_PORT_BASE=${KAFKA_CONTROLLER_PORT_BASE:-$((PORT_BASE + 100))}
  # Three JVMs share 2 cores and the developer's memory with the suite.
  HEAP=(-Xms128m -Xmx384m)
fi
# Replication the cluster can give: 3 copies (2 in sync) once there are 3 brokers.
REPLICAS=$((BROKERS < 3 ? BROKERS : 3))
MIN_ISR=$((REPLICAS > 1 ? REPLICAS - 1 : 1))
TOOLS_LOG4J=$STATE/tools-log4j2.properties
SASL_SSL_PORT=${KAFKA_SASL_SSL_PORT:-}
SASL_USER=${KAFKA_SASL_USER:-ozg}
TLS=$STATE/tls
if [[ -n $SASL_SSL_PORT ]]; then
  ((BROKERS == 1)) || die "KAFKA_SASL_SSL_PORT is for a single broker"
  [[ $SASL_SSL_PORT =~ ^[0-9]+$ ]] || die "KAFKA_SASL_SSL_PORT must be a port number, not '$SASL_SSL_PORT'"
  [[ $SASL_USER =~ ^[A-Za-z0-9._-]+$ ]] || die "KAFKA_SASL_USER may hold letters, digits, '.', '_', '-'"
fi

# The machine has 2 shared cores: a serial GC and C1-only JIT keep the broker
# from competing with the test suite and make it start in a few seconds.
JVM_OPTS=(
  "${HEAP[@]}"
  -XX:+UseSerialGC -XX:ActiveProcessorCount=2 -XX:TieredStopAtLevel=1
  -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true
)

# node N's files: a single broker keeps the flat layout under $STATE, a cluster one folder per node.
node_dir() { if ((BROKERS == 1)); then echo "$STATE"; else echo "$STATE/node-$1"; fi; }
node_port() { echo $((PORT_BASE + $1 - 1)); }
node_controller_port() { echo $((CONTROLLER_PORT_BASE + $1 - 1)); }
nodes() { seq 1 "$BROKERS"; }

# The client addresses of every node, as services take them (OZG_*_KAFKA_BOOTSTRAP_SERVERS).
bootstrap_list() {
  local n list=()
  for n in $(nodes); do list+=("127.0.0.1:$(node_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

ensure_java() {
  ensure_cmd java openjdk-17-jre-headless
}

# Maven resolves the transitive runtime closure of kafka_2.13; the marker is
# keyed by the pom's hash so editing the pom (e.g. a version bump) refetches.
fetch_libs() {
  local sum marker
  sum=$(sha256sum "$POM" | cut -c1-16)
  marker=$CACHE/libs.$sum.ok
  [[ -f $marker && -d $LIBS ]] && return 0
  ensure_cmd mvn maven
  log "fetching Kafka jars with Maven into $LIBS"
  mkdir -p "$CACHE"
  rm -rf "$LIBS.tmp"
  # Output goes to a file: Debian's Maven 3.8 prints stray ANSI codes even in
  # batch mode, and only a failure's output is worth reading.
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$LIBS.tmp" >"$CACHE/mvn.log" 2>&1; then
    cat "$CACHE/mvn.log" >&2
    die "mvn could not fetch the Kafka jars (log: $CACHE/mvn.log)"
  fi
  compgen -G "$LIBS.tmp/kafka_2.13-*.jar" >/dev/null || die "mvn ran but no kafka_2.13 jar in $LIBS.tmp"
  rm -rf "$LIBS" "$CACHE"/libs.*.ok
  mv "$LIBS.tmp" "$LIBS"
  touch "$marker"
}

# make_tls: a CA, the broker's certificate for 127.0.0.1 in a PKCS12 keystore, the CA in a truststore
# (keytool), a client certificate, and the SCRAM password; those already there are kept, so clients
# that trust ca.pem go on trusting the broker after a restart.
make_tls() {
  [[ -s $TLS/broker.p12 ]] && return 0
  ensure_cmd openssl openssl
  ensure_cmd keytool openjdk-17-jre-headless
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  log "making the SASL_SSL listener's certificates in $TLS"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes) who usage
  [[ -s $TLS/store.password ]] || openssl rand -hex 16 >"$TLS/store.password"
  [[ -s $TLS/sasl.password ]] || printf '%s\n' "${KAFKA_SASL_PASSWORD:-$(openssl rand -hex 16)}" >"$TLS/sasl.password"
  openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=ozg local Kafka CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  for who in broker client; do
    usage=$([[ $who == broker ]] && echo serverAuth || echo clientAuth)
    openssl req "${ec[@]}" -subj "/CN=$who" -keyout "$TLS/$who.key" -out "$TLS/$who.csr" 2>/dev/null
    openssl x509 -req -in "$TLS/$who.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 30 \
      -out "$TLS/$who.pem" 2>/dev/null \
      -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\n' "$usage")
  done
  rm -f "$TLS/truststore.p12"
  keytool -importcert -noprompt -alias ca -file "$TLS/ca.pem" -keystore "$TLS/truststore.p12" \
    -storetype PKCS12 -storepass "$(<"$TLS/store.password")" >"$TLS/keytool.log" 2>&1 \
    || die "keytool could not make $TLS/truststore.p12: $(<"$TLS/keytool.log")"
  openssl pkcs12 -export -in "$TLS/broker.pem" -inkey "$TLS/broker.key" -certfile "$TLS/ca.pem" -name broker \
    -out "$TLS/broker.p12.tmp" -passout "pass:$(<"$TLS/store.password")"
  mv "$TLS/broker.p12.tmp" "$TLS/broker.p12"
  chmod 600 "$TLS"/*
}

# The SASL_SSL listener's lines of server.properties (none without KAFKA_SASL_SSL_PORT).
sasl_ssl_config() {
  [[ -n $SASL_SSL_PORT ]] || return 0
  cat <<EOF
# SASL_SSL listener (KAFKA_SASL_SSL_PORT): TLS with the certificates in $TLS, SCRAM-SHA-512 logins;
# a client certificate signed by the same CA is accepted, not required.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$(<"$TLS/store.password")
ssl.truststore.type=PKCS12
ssl.truststore.location=$TLS/truststore.p12
ssl.truststore.password=$(<"$TLS/store.password")
ssl.client.auth=requested
EOF
}

# write_config N: node N's server.properties and log4j settings.
write_config() {
  local n=$1 dir voters=() i listeners advertised protocols
  dir=$(node_dir "$n")
  mkdir -p "$dir/data"
  for i in $(nodes); do voters+=("$i@127.0.0.1:$(node_controller_port "$i")"); done
  listeners=PLAINTEXT://127.0.0.1:$(node_port "$n"),CONTROLLER://127.0.0.1:$(node_controller_port "$n")
  advertised=PLAINTEXT://127.0.0.1:$(node_port "$n")
  protocols=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
  if [[ -n $SASL_SSL_PORT ]]; then
    make_tls
    listeners+=,SASL_SSL://127.0.0.1:$SASL_SSL_PORT
    advertised+=,SASL_SSL://127.0.0.1:$SASL_SSL_PORT
    protocols+=,SASL_SSL:SASL_SSL
  fi
  # Static voters (not --standalone/bootstrap.servers): the dynamic quorum
  # records the controller endpoint at format time, so a later port change
  # would leave a broker that can never elect itself.
  cat >"$dir/server.properties" <<EOF
# Generated by deploy/local/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(IFS=,; echo "${voters[*]}")
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protocols
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# Services create their topics explicitly; typos must fail, not auto-create.
auto.create.topics.enable=false
num.partitions=1
# With 3 brokers: every record on 3 of them, an acks=all write needs 2 in sync
# (the production set-up, README "Scaling out"); a single broker keeps 1 copy.
default.replication.factor=$REPLICAS
min.insync.replicas=$MIN_ISR
offsets.topic.replication.factor=$REPLICAS
offsets.topic.num.partitions=5
share.coordinator.state.topic.replication.factor=$REPLICAS
share.coordinator.state.topic.min.isr=$MIN_ISR
transaction.state.log.replication.factor=$REPLICAS
transaction.state.log.min.isr=$MIN_ISR
transaction.state.log.num.partitions=5
# A replica that lost data (SIGKILL) must never become leader and hide acknowledged records.
unclean.leader.election.enable=false
# A crashed broker is fenced, and its partitions get new leaders, within 6 s (default 9 s).
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1500
# Consumers in tests join one at a time; don't make each wait 3 s for others.
group.initial.rebalance.delay.ms=0
# Small segments and short retention keep var/kafka small on a dev machine.
log.segment.bytes=16777216
log.retention.hours=24
log.retention.check.interval.ms=60000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
background.threads=2
$(sasl_ssl_config)
EOF
  cat >"$dir/log4j2.properties" <<EOF
# Broker log: INFO to kafka.log next to this file only.
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/kafka.log
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# Per-request and state-change chatter drowns the useful lines.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
EOF
  cat >"$TOOLS_LOG4J" <<EOF
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

run_tool() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS/*" "$@"
}

# Every node of a cluster is formatted with the same cluster id.
format_storage() {
  local n=$1 dir cluster_id
  dir=$(node_dir "$n")
  [[ -f $dir/data/meta.properties ]] && return 0
  if [[ -s $STATE/cluster.id ]]; then
    cluster_id=$(<"$STATE/cluster.id")
  else
    cluster_id=$(run_tool kafka.tools.StorageTool random-uuid)
    printf '%s\n' "$cluster_id" >"$STATE/cluster.id"
  fi
  local scram=()
  # KRaft keeps SCRAM users in the cluster metadata: the first one is written when formatting.
  if [[ -n $SASL_SSL_PORT ]]; then
    scram=(--add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$(<"$TLS/sasl.password")]")
  fi
  log "formatting $dir/data (node $n, cluster id $cluster_id)"
  run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" --ignore-formatted \
    "${scram[@]}" >&2 || die "kafka-storage format failed for node $n"
}

# our_pid N: node N's broker pid, if that process is still our broker JVM.
our_pid() {
  local dir pid cmdline
  dir=$(node_dir "$1")
  [[ -f $dir/kafka.pid ]] || return 1
  pid=$(<"$dir/kafka.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # Guard against a recycled pid: it must still be our broker JVM. (No
  # `| grep -q` here: with pipefail its early exit SIGPIPEs tr into failure.)
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"kafka.Kafka $dir/server.properties"* ]] || return 1
  printf '%s\n' "$pid"
}

# Port node N was started with; KAFKA_PORT_BASE may differ in this shell.
running_port() {
  cat "$(node_dir "$1")/kafka.port" 2>/dev/null || node_port "$1"
}

is_running() {
  our_pid "$1" >/dev/null && port_open "$(running_port "$1")"
}

fail_start() {
  local n=$1 logfile
  shift
  logfile=$(node_dir "$n")/kafka.log
  log "ERROR: broker $n: $*"
  if [[ -f $logfile ]]; then
    log "last lines of $logfile:"
    tail -n 40 "$logfile" >&2
  fi
  exit 1
}

# launch N: start node N's JVM in the background (the caller waits for it).
launch() {
  local n=$1 dir port cport
  dir=$(node_dir "$n")
  port=$(node_port "$n")
  cport=$(node_controller_port "$n")
  ! port_open "$port" || die "port $port is taken by another process; stop it or set KAFKA_PORT_BASE"
  ! port_open "$cport" || die "controller port $cport is taken; stop it or set KAFKA_CONTROLLER_PORT(_BASE)"
  [[ -z $SASL_SSL_PORT ]] || ! port_open "$SASL_SSL_PORT" || die "SASL_SSL port $SASL_SSL_PORT is taken"
  write_config "$n"
  format_storage "$n"
  rm -f "$dir/kafka.pid"
  # Keep one previous log so a failed run can be compared with the last good one.
  if [[ -f $dir/kafka.log ]]; then mv -f "$dir/kafka.log" "$dir/kafka.log.1"; fi
  log "starting broker $n on 127.0.0.1:$port"
  # setsid+nohup: the broker must outlive this script and the caller's
  # terminal or process group (tests restart it from subprocesses).
  setsid nohup java "${JVM_OPTS[@]}" \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -Dkafka.logs.dir="$dir" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  echo "$port" >"$dir/kafka.port"
}

# wait_started N...: until every node N logged that clients can produce.
wait_started() {
  local deadline=$((SECONDS + START_TIMEOUT)) n dir pending
  while ((SECONDS < deadline)); do
    pending=0
    for n in "$@"; do
      dir=$(node_dir "$n")
      # kill -0, not our_pid: right after the fork the child's cmdline is not yet java's.
      kill -0 "$(<"$dir/kafka.pid")" 2>/dev/null || fail_start "$n" "broker exited during startup"
      # The port opens before the broker has registered itself with the
      # controller; only the "started" line means clients can produce.
      if ! port_open "$(node_port "$n")" || ! grep -q 'Kafka Server started' "$dir/kafka.log" 2>/dev/null; then
        pending=$((pending + 1))
      fi
    done
    if ((pending == 0)); then
      log "kafka up on $(bootstrap_list), ${SECONDS}s after this command started"
      return 0
    fi
    sleep 0.5
  done
  fail_start "$1" "not every broker ready after ${START_TIMEOUT}s"
}

# start_nodes N...: start those of the nodes that are not running, wait for all of them.
start_nodes() {
  local n waiting=()
  for n in "$@"; do
    if our_pid "$n" >/dev/null && [[ $(running_port "$n") != "$(node_port "$n")" ]]; then
      die "broker $n already runs on port $(running_port "$n"); run '$0 down' first to move it to $(node_port "$n")"
    fi
    if is_running "$n"; then
      log "broker $n already running (pid $(our_pid "$n"), 127.0.0.1:$(node_port "$n"))"
      continue
    fi
    if our_pid "$n" >/dev/null; then
      # Alive but not listening: a previous start is still coming up.
      log "broker $n process exists but port $(node_port "$n") is closed; waiting for it"
    else
      launch "$n"
    fi
    waiting+=("$n")
  done
  # A cluster node only reports "started" once a quorum of controllers is up:
  # all are launched first, then awaited together.
  if ((${#waiting[@]} > 0)); then wait_started "${waiting[@]}"; fi
}

# stop_node N SIGNAL: TERM waits for a clean stop (SIGKILL after 30 s); KILL is a crash.
stop_node() {
  local n=$1 signal=$2 pid dir i
  dir=$(node_dir "$n")
  if ! pid=$(our_pid "$n"); then
    rm -f "$dir/kafka.pid" "$dir/kafka.port"
    log "broker $n not running"
    return 0
  fi
  log "stopping broker $n (pid $pid, SIG$signal)"
  kill "-$signal" "$pid" 2>/dev/null || true
  if [[ $signal == TERM ]]; then
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "still alive after 30 s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  rm -f "$dir/kafka.pid" "$dir/kafka.port"
  log "broker $n stopped"
}

cmd_up() {
  mkdir -p "$STATE"
  ensure_java
  fetch_libs
  # shellcheck disable=SC2046
  start_nodes $(nodes)
}

cmd_down() {
  local n
  # A cluster stops in parallel: a broker waiting for its peers' acks would otherwise hold up the next.
  for n in $(nodes); do stop_node "$n" TERM & done
  wait
}

cmd_status() {
  local n up=0
  for n in $(nodes); do
    if is_running "$n"; then
      echo "kafka broker $n running (pid $(our_pid "$n")) on 127.0.0.1:$(running_port "$n")"
      up=$((up + 1))
    else
      echo "kafka broker $n not running"
    fi
  done
  ((up == BROKERS))
}

# Checks the broker numbers given to `kill` / `start-node`.
node_args() {
  (($# > 0)) || die "name the broker(s): 1..$BROKERS"
  local n
  for n in "$@"; do
    [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= BROKERS)) || die "no broker '$n' (1..$BROKERS)"
  done
}

case ${1:-} in
  up | start) cmd_up ;;
  down | stop) cmd_down ;;
  restart) cmd_down && cmd_up ;;
  status) cmd_status ;;
  # The bootstrap list of the brokers, as services take it (OZG_<SERVICE>_KAFKA_BOOTSTRAP_SERVERS).
  bootstrap) bootstrap_list ;;
  # Fault injection (bench/chaos.py, the broker-fault test): SIGKILL brokers, start them again.
  kill)
    shift
    node_args "$@"
    for n in "$@"; do stop_node "$n" KILL; done
    ;;
  start-node)
    shift
    node_args "$@"
    ensure_java
    fetch_libs
    start_nodes "$@"
    ;;
  # Throws away all topics and offsets, for a clean slate.
  wipe)
    cmd_down
    for n in $(nodes); do rm -rf "$(node_dir "$n")/data"; done
    rm -f "$STATE/cluster.id"
    log "wiped the data of $(bootstrap_list)"
    ;;
  *)
    echo "usage: $0 {up|down|restart|status|bootstrap|kill N...|start-node N...|wipe}" >&2
    exit 2
    ;;
esac
