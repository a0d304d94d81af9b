#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs of this
# machine as Spark expects, e.g. {"name": "gpu", "addresses": ["0", "1"]}. Needs nvidia-smi.
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | paste -sd, - | sed 's/,/", "/g')
echo "{\"name\": \"gpu\", \"addresses\": [\"$ids\"]}"
