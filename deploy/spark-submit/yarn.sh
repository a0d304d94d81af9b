#!/usr/bin/env bash
# pare on YARN, client mode (the driver, which runs prune and distill, stays on this edge node).
#   deploy/spark-submit/yarn.sh CONFIG RUN_DIR [pare args...]
# e.g. deploy/spark-submit/yarn.sh conf/cluster.conf hdfs:///pare/runs/2026-11-25
# Needs HADOOP_CONF_DIR (or YARN_CONF_DIR) pointing at the cluster's configuration. Inputs and the run
# directory are hdfs:// (or s3a:// with hadoop-aws) URIs. Environment: SPARK_SUBMIT, PARE_JAR, PARE_QUEUE
# (default), PARE_EXECUTORS (4), PARE_EXECUTOR_CORES (4), PARE_EXECUTOR_MEMORY (8g), PARE_DRIVER_MEMORY (8g).
# PARE_GPUS_PER_EXECUTOR=N adds Spark's GPU scheduling (YARN 3.1+ with GPU isolation): N GPUs per executor,
# one per task; with a -Pcuda build (see README, GPUs) each task runs on its GPU.
# Not run here: these machines have no YARN cluster.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,10p "$0" >&2; exit 2; }
config=$1 run_dir=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
gpu=()
if [ -n "${PARE_GPUS_PER_EXECUTOR:-}" ]; then
  gpu=(--conf "spark.executor.resource.gpu.amount=$PARE_GPUS_PER_EXECUTOR" --conf spark.task.resource.gpu.amount=1
       --conf "spark.executor.resource.gpu.discoveryScript=./discover-gpus.sh" --files "$root/deploy/gpu/discover-gpus.sh")
fi
exec ${SPARK_SUBMIT:-spark-submit} \
  --master yarn --deploy-mode client --queue "${PARE_QUEUE:-default}" \
  --class dev.pare.jobs.cli.PareCli \
  --driver-memory "${PARE_DRIVER_MEMORY:-8g}" \
  --num-executors "${PARE_EXECUTORS:-4}" --executor-cores "${PARE_EXECUTOR_CORES:-4}" \
  --executor-memory "${PARE_EXECUTOR_MEMORY:-8g}" \
  --conf spark.executorEnv.OMP_NUM_THREADS=1 --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE \
  --conf spark.yarn.appMasterEnv.OMP_WAIT_POLICY=PASSIVE \
  "${gpu[@]}" \
  "${PARE_JAR:-$root/pipeline-jobs/target/pare-cluster.jar}" \
  run --config "$config" --run-dir "$run_dir" "$@"
