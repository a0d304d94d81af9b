#!/usr/bin/env bash
# The demo of README.md: builds Pare if needed, then runs the whole pipeline in Spark local mode on
# the committed Fashion-MNIST sample with the committed LeNet-300-100 teacher (conf/demo.conf:
# Wanda 70% sparsity, a random 50% data subset, 2 KD epochs), prints a summary and the report path.
#
#   deploy/run-local.sh                 # run dir runs/demo (a rerun skips finished stages)
#   deploy/run-local.sh runs/other --set prune.criterion=magnitude
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_dir=${1:-runs/demo}
shift || true
exec "$root/deploy/pare" run --config conf/demo.conf --run-dir "$run_dir" "$@"
