# Shared by the benchmark scripts in deploy/bench/ (sourced, not run). Needs $root (the checkout) set.

# The speed environment (shared/reference/PERF-NOTES.md), decided once and exported, so that every JVM
# and the PyTorch peer started from here see the same values.
bench_speed_env() {
  export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  # The rule of dev.pare.common.util.BlasKernels (which Pare's JVMs apply when it is unset), exported here so
  # that the PyTorch peer's OpenBLAS gets the same kernels.
  if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    local flags
    flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
    if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512cd "* && " $flags " == *" avx512bw "* \
          && " $flags " == *" avx512dq "* && " $flags " == *" avx512vl "* ]]; then
      export OPENBLAS_CORETYPE=SKYLAKEX
    elif [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* ]]; then
      export OPENBLAS_CORETYPE=HASWELL
    fi
  fi
  echo "bench: OMP_WAIT_POLICY=$OMP_WAIT_POLICY OMP_NUM_THREADS=$OMP_NUM_THREADS" \
    "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}" >&2
}

bench_now() { date +%s.%N; }

bench_seconds() { # START END
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# A main class of dev.pare.jobs.bench on the checkout's classpath (deploy/pare builds it on first use).
bench_main() { # CLASS ARGS...
  local cls=$1
  shift
  PARE_MAIN=dev.pare.jobs.bench.$cls "$root/deploy/pare" "$@"
}

# pipeline-jobs/target/pare-cluster.jar and spark-classpath.txt, rebuilt when a source is newer than the jar.
bench_dist() {
  local jar=$root/pipeline-jobs/target/pare-cluster.jar
  if [ ! -f "$jar" ] || [ ! -f "$root/pipeline-jobs/target/spark-classpath.txt" ] \
    || [ -n "$(find "$root/pom.xml" "$root/pipeline-common" "$root/pipeline-jobs/pom.xml" "$root/pipeline-jobs/src" \
      -newer "$jar" -type f -print -quit)" ]; then
    echo "bench: building pare-cluster.jar (mvn -Pdist package -DskipTests) ..." >&2
    (cd "$root" && mvn -B -q -Pdist package -DskipTests >&2)
  fi
}

# Writes JAR: a Java agent of dev.pare.jobs.bench.LiveHeapAgent alone (the class compiled by `mvn install`, built
# here when missing or older than its source), for -javaagent:JAR=MILLIS; prints JAR.
bench_live_heap_agent() { # JAR
  local jar=$1 classes=$root/pipeline-jobs/target/classes cls=dev/pare/jobs/bench/LiveHeapAgent.class
  local src=$root/pipeline-jobs/src/main/java/dev/pare/jobs/bench/LiveHeapAgent.java
  if [ ! -f "$classes/$cls" ] || [ "$src" -nt "$classes/$cls" ]; then
    echo "bench: building (mvn install -DskipTests) for the live-heap agent ..." >&2
    (cd "$root" && mvn -B -q install -DskipTests >&2)
  fi
  mkdir -p "$(dirname "$jar")"
  printf 'Premain-Class: dev.pare.jobs.bench.LiveHeapAgent\n' > "$jar.manifest"
  rm -f "$jar"
  jar --create --file "$jar" --manifest "$jar.manifest" -C "$classes" "$cls"
  rm -f "$jar.manifest"
  echo "$jar"
}

# The first port from $1 up that nothing on 127.0.0.1 listens on.
bench_free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# `pare ARGS...` submitted with spark-submit semantics in client mode (the driver runs here) to MASTER,
# like deploy/spark-submit/standalone.sh and StandaloneClusterTest: SparkSubmit from Spark's classpath,
# pare-cluster.jar as the application. deploy/pare is only the launcher (its JVM flags and speed
# environment); BENCH_DRIVER_OPTS replaces its -Xmx8g, BENCH_EXECUTOR_OPTS is added to the executors' JVM options.
bench_submit() { # MASTER EXECUTOR_CORES_TOTAL ARGS...
  local master=$1 total=$2
  shift 2
  local cache=${PARE_WORK:-$root/target/pare-work}/javacpp-cache
  PARE_JAVA_OPTS="${BENCH_DRIVER_OPTS:--Xmx2g}" PARE_MAIN=org.apache.spark.deploy.SparkSubmit \
    PARE_JAR="$(cat "$root/pipeline-jobs/target/spark-classpath.txt")" SPARK_LOCAL_IP=127.0.0.1 \
    "$root/deploy/pare" --master "$master" --deploy-mode client --name pare-bench \
    --class dev.pare.jobs.cli.PareCli \
    --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
    --executor-memory "${PARE_EXECUTOR_MEMORY:-2g}" --executor-cores 1 --total-executor-cores "$total" \
    --conf spark.sql.shuffle.partitions=4 --conf spark.ui.enabled=false \
    --conf spark.executorEnv.OMP_NUM_THREADS="$OMP_NUM_THREADS" \
    --conf spark.executorEnv.OMP_WAIT_POLICY="$OMP_WAIT_POLICY" \
    ${OPENBLAS_CORETYPE:+--conf spark.executorEnv.OPENBLAS_CORETYPE="$OPENBLAS_CORETYPE"} \
    --conf "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.cachedir=$cache ${BENCH_EXECUTOR_OPTS:-}" \
    "$root/pipeline-jobs/target/pare-cluster.jar" "$@"
}

# Starts a standalone cluster of N one-core workers in DIR on free ports; prints its master URL.
bench_cluster_start() { # N DIR
  local port web
  port=$(bench_free_port 7277)
  web=$(bench_free_port 8280)
  PARE_WORKERS=$1 PARE_WORKER_CORES=1 PARE_MASTER_PORT=$port PARE_MASTER_WEBUI_PORT=$web \
    PARE_WORKER_MEMORY=${PARE_WORKER_MEMORY:-3g} "$root/deploy/standalone-cluster.sh" start "$2" | tail -n 1
}
