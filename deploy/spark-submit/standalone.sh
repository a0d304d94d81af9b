#!/usr/bin/env bash
# pare on a Spark standalone cluster, client mode (the driver runs here: prune and distill are driver stages).
#   deploy/spark-submit/standalone.sh spark://MASTER:7077 CONFIG RUN_DIR [pare args...]
# e.g. deploy/spark-submit/standalone.sh spark://10.0.0.5:7077 conf/cluster.conf hdfs:///pare/runs/2026-11-25
# The jar is pipeline-jobs/target/pare-cluster.jar (mvn -Pdist -DskipTests package); Spark, Scala and Hadoop
# come from the cluster. Inputs and the run directory in CONFIG are Hadoop URIs every executor can read:
# hdfs://namenode:8020/..., s3a://bucket/... (with hadoop-aws on the cluster's classpath), or file:/shared/...
# Environment: SPARK_SUBMIT (default: spark-submit on PATH), PARE_JAR, PARE_EXECUTOR_CORES (4),
# PARE_EXECUTOR_MEMORY (8g), PARE_DRIVER_MEMORY (8g), PARE_TOTAL_CORES (16).
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,9p "$0" >&2; exit 2; }
master=$1 config=$2 run_dir=$3
shift 3
root=$(cd "$(dirname "$0")/../.." && pwd)
cores=${PARE_EXECUTOR_CORES:-4}
exec ${SPARK_SUBMIT:-spark-submit} \
  --master "$master" --deploy-mode client \
  --class dev.pare.jobs.cli.PareCli \
  --driver-memory "${PARE_DRIVER_MEMORY:-8g}" \
  --executor-cores "$cores" --executor-memory "${PARE_EXECUTOR_MEMORY:-8g}" \
  --total-executor-cores "${PARE_TOTAL_CORES:-16}" \
  --conf spark.executorEnv.OMP_NUM_THREADS=1 \
  --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE \
  --conf spark.task.cpus=1 \
  "${PARE_JAR:-$root/pipeline-jobs/target/pare-cluster.jar}" \
  run --config "$config" --run-dir "$run_dir" "$@"
