#!/usr/bin/env bash
# pare on Kubernetes, client mode from a pod or machine that executors can reach (spark.driver.host).
#   deploy/spark-submit/kubernetes.sh k8s://https://API_SERVER:6443 IMAGE CONFIG RUN_DIR [pare args...]
# IMAGE is a Spark 3.5 / Scala 2.12 / Java 17 image (e.g. apache/spark:3.5.x-scala2.12-java17) with
# pare-cluster.jar copied to /opt/pare/pare-cluster.jar and hadoop-aws if the data is on s3a://. Executors
# read the jar from local:// inside the image; inputs and the run directory are s3a:// or hdfs:// URIs.
# Environment: SPARK_SUBMIT, PARE_NAMESPACE (default), PARE_SERVICE_ACCOUNT (spark), PARE_DRIVER_HOST
# (this pod's IP or headless service), PARE_EXECUTORS (4), PARE_EXECUTOR_CORES (4), PARE_EXECUTOR_MEMORY (8g),
# PARE_GPUS_PER_EXECUTOR=N requests nvidia.com/gpu for executors (vendor nvidia.com) with a discovery script
# in the image at /opt/pare/discover-gpus.sh. With a -Pcuda build (see README, GPUs) each task runs on its GPU.
# Not run here: these machines have no Kubernetes cluster.
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,11p "$0" >&2; exit 2; }
master=$1 image=$2 config=$3 run_dir=$4
shift 4
gpu=()
if [ -n "${PARE_GPUS_PER_EXECUTOR:-}" ]; then
  gpu=(--conf "spark.executor.resource.gpu.amount=$PARE_GPUS_PER_EXECUTOR" --conf spark.task.resource.gpu.amount=1
       --conf spark.executor.resource.gpu.vendor=nvidia.com
       --conf spark.executor.resource.gpu.discoveryScript=/opt/pare/discover-gpus.sh)
fi
exec ${SPARK_SUBMIT:-spark-submit} \
  --master "$master" --deploy-mode client \
  --class dev.pare.jobs.cli.PareCli \
  --conf "spark.kubernetes.container.image=$image" \
  --conf "spark.kubernetes.namespace=${PARE_NAMESPACE:-default}" \
  --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${PARE_SERVICE_ACCOUNT:-spark}" \
  --conf "spark.driver.host=${PARE_DRIVER_HOST:?set PARE_DRIVER_HOST to an address executors can reach}" \
  --conf "spark.executor.instances=${PARE_EXECUTORS:-4}" \
  --conf "spark.executor.cores=${PARE_EXECUTOR_CORES:-4}" --conf "spark.executor.memory=${PARE_EXECUTOR_MEMORY:-8g}" \
  --conf spark.executorEnv.OMP_NUM_THREADS=1 --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE \
  "${gpu[@]}" \
  local:///opt/pare/pare-cluster.jar \
  run --config "$config" --run-dir "$run_dir" "$@"
