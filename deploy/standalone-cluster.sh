#!/usr/bin/env bash
# A Spark standalone cluster on this machine: one Master and two Workers (one core each) on 127.0.0.1,
# run from the Spark jars Maven resolved for this project (no Spark download).
#   deploy/standalone-cluster.sh start  [WORK_DIR]   # waits until both workers are registered, prints the master URL
#   deploy/standalone-cluster.sh status [WORK_DIR]   # master URL, each recorded process alive or not, registered workers
#   deploy/standalone-cluster.sh stop   [WORK_DIR]   # stops only the processes that start recorded
# WORK_DIR (default target/standalone) holds the logs, the PID files and the workers' folders.
# Environment (start): PARE_MASTER_PORT (7177), PARE_MASTER_WEBUI_PORT (8180), PARE_WORKERS (2),
# PARE_WORKER_CORES (1), PARE_WORKER_MEMORY (3g, offered to executors), PARE_CLUSTER_TIMEOUT (120 s).
# The classpath is pipeline-jobs/target/spark-classpath.txt: the runtime classpath less what
# pare-cluster.jar bundles (written by `mvn -Pdist package`, run here if the file is missing), so executors
# load DL4J from the submitted jar, as on a real cluster. Submit with spark-submit semantics, e.g.
#   java <the --add-opens flags of deploy/pare> -cp "$(cat pipeline-jobs/target/spark-classpath.txt)" \
#     org.apache.spark.deploy.SparkSubmit --master spark://127.0.0.1:7177 --conf spark.driver.host=127.0.0.1 \
#     --class dev.pare.jobs.cli.PareCli pipeline-jobs/target/pare-cluster.jar run --config conf/demo.conf --run-dir ...
set -euo pipefail
cmd=${1:-}
case "$cmd" in start|stop|status) ;; *) echo "usage: $0 start|stop|status [WORK_DIR]" >&2; exit 2 ;; esac
work=${2:-target/standalone}
mkdir -p "$work"
work=$(cd "$work" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Daemons as recorded by start: name, main class (checked against /proc before any kill).
roles() {
  echo "master org.apache.spark.deploy.master.Master"
  local n=${WORKERS:-0} i
  for ((i = 1; i <= n; i++)); do echo "worker-$i org.apache.spark.deploy.worker.Worker"; done
}

# True when PID runs the given main class with this work folder: a recycled PID is never taken for ours.
ours() {
  local pid=$1 main=$2 cmdline
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline") || return 1
  [[ "$cmdline" == *"$main"* && "$cmdline" == *"-Dpare.cluster.work=$work "* ]]
}

alive() { # name main
  local f="$work/$1.pid"
  [ -f "$f" ] && ours "$(cat "$f")" "$2"
}

http_get() { # path: the body of http://127.0.0.1:$MASTER_WEBUI_PORT<path>, via bash's /dev/tcp (no curl needed)
  local reply
  reply=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3
    cat <&3' "$MASTER_WEBUI_PORT" "$1" 2>/dev/null) || return 0
  printf '%s' "${reply#*$'\r\n\r\n'}"
}

registered() { # number of ALIVE workers in the master's JSON, empty if the master does not answer
  http_get /json/ | tr -d ' \n' | sed -n 's/.*"aliveworkers":\([0-9]*\).*/\1/p' || true
}

stop_all() {
  local name main pid i
  while read -r name main; do
    [ -f "$work/$name.pid" ] || continue
    pid=$(cat "$work/$name.pid")
    if ours "$pid" "$main"; then
      kill "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do ours "$pid" "$main" || break; sleep 0.1; done
      if ours "$pid" "$main"; then
        echo "$name (pid $pid) did not stop in 10 s; killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
      fi
      echo "stopped $name (pid $pid)"
    fi
    rm -f "$work/$name.pid"
  done < <(roles)
}

if [ "$cmd" != start ]; then
  if [ ! -f "$work/cluster.env" ]; then
    echo "no cluster started in $work"
    [ "$cmd" = stop ] && exit 0 || exit 1
  fi
  # shellcheck source=/dev/null
  . "$work/cluster.env"
  if [ "$cmd" = stop ]; then
    stop_all
    exit 0
  fi
  echo "master $MASTER_URL (web UI http://127.0.0.1:$MASTER_WEBUI_PORT)"
  all=0
  while read -r name main; do
    pid=$(cat "$work/$name.pid" 2>/dev/null || echo -)
    if alive "$name" "$main"; then echo "$name pid $pid alive"; else echo "$name pid $pid not running"; all=1; fi
  done < <(roles)
  n=$(registered)
  echo "registered workers: ${n:-unknown (master UI not reachable)}"
  exit $all
fi

# --- start
if [ -f "$work/cluster.env" ]; then
  # shellcheck source=/dev/null
  . "$work/cluster.env"
  while read -r name main; do
    if alive "$name" "$main"; then
      echo "a cluster is already running from $work ($name pid $(cat "$work/$name.pid")); stop it first" >&2
      exit 1
    fi
  done < <(roles)
fi
MASTER_PORT=${PARE_MASTER_PORT:-7177}
MASTER_WEBUI_PORT=${PARE_MASTER_WEBUI_PORT:-8180}
WORKERS=${PARE_WORKERS:-2}
MASTER_URL="spark://127.0.0.1:$MASTER_PORT"
printf 'MASTER_URL=%s\nMASTER_PORT=%s\nMASTER_WEBUI_PORT=%s\nWORKERS=%s\n' \
  "$MASTER_URL" "$MASTER_PORT" "$MASTER_WEBUI_PORT" "$WORKERS" > "$work/cluster.env"

cpfile=pipeline-jobs/target/spark-classpath.txt
# Built once; `mvn -Pdist package` refreshes it (the dependency plugin leaves an unchanged file untouched,
# so its time says nothing about the pom's).
if [ ! -f "$cpfile" ]; then
  echo "standalone-cluster: building (mvn -Pdist package -DskipTests) ..." >&2
  mvn -B -q -Pdist package -DskipTests >&2
fi
cp=$(cat "$cpfile")
for cls in org/apache/spark/deploy/master/Master.class org/apache/spark/deploy/worker/Worker.class; do
  found=
  IFS=: read -ra jars <<< "$cp"
  for j in "${jars[@]}"; do
    case "$j" in *spark-core_*.jar) unzip -l "$j" "$cls" > /dev/null 2>&1 && found=1 ;; esac
  done
  [ -n "$found" ] || { echo "standalone-cluster: $cls is not in $cpfile" >&2; exit 1; }
done

opens="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false"
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
mkdir -p "$work/spark-home/jars" "$work/tmp" "$work/local"
export SPARK_LOCAL_IP=127.0.0.1
# Workers build the executors' classpath from $SPARK_HOME/jars (empty here) and SPARK_DIST_CLASSPATH,
# Spark's hook for "Hadoop free" builds; executors inherit the workers' environment (OMP_*).
export SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.12 SPARK_DIST_CLASSPATH="$cp"
export SPARK_LOCAL_DIRS="$work/local"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# A taken port is an error, not a silent move to the next one (workers would join another master).
daemon_opts="-Xmx512m -Dspark.port.maxRetries=0 $opens -Djava.io.tmpdir=$work/tmp -Dpare.cluster.work=$work"

launch() { # name main args...
  local name=$1 main=$2 pid i
  shift
  # shellcheck disable=SC2086
  nohup "$java" $daemon_opts -cp "$cp" "$@" > "$work/$name.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$work/$name.pid"
  # Until the background shell has exec'd nohup and java, /proc/PID/cmdline is this script's, and the start-up
  # check below would take a daemon on its way for one that exited (it did once, on a loaded machine): wait for
  # the daemon's command line, or for the process to end, for up to 10 s.
  for ((i = 0; i < 200; i++)); do
    ours "$pid" "$main" && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
}

fail() {
  echo "standalone-cluster: $1" >&2
  for log in "$work"/*.log; do
    echo "--- tail of $log" >&2
    tail -n 25 "$log" >&2
  done
  stop_all >&2
  exit 1
}

launch master org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_WEBUI_PORT"
for ((i = 1; i <= WORKERS; i++)); do
  mkdir -p "$work/worker-$i"
  launch "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
    --cores "${PARE_WORKER_CORES:-1}" --memory "${PARE_WORKER_MEMORY:-3g}" --work-dir "$work/worker-$i" "$MASTER_URL"
done

deadline=$((SECONDS + ${PARE_CLUSTER_TIMEOUT:-120}))
while :; do
  while read -r name main; do
    alive "$name" "$main" || fail "$name exited during start-up"
  done < <(roles)
  n=$(registered)
  [ "${n:-0}" -ge "$WORKERS" ] && break
  [ $SECONDS -lt $deadline ] || fail "only ${n:-0} of $WORKERS workers registered after ${PARE_CLUSTER_TIMEOUT:-120} s"
  sleep 0.5
done
echo "$MASTER_URL"
