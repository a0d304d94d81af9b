#!/usr/bin/env bash
# Pare next to the PyTorch reference of the same protocol (../shared/bench/pytorch-peer/fmnist_peer.py, beside
# this checkout) on the full Fashion-MNIST set: the same model, data, batch size (128), hyper-parameters (Adam
# 1e-3, 5 teacher epochs, calibration on 2048 examples, magnitude and Wanda at 50/70/90%, 2 KD epochs, T = 4,
# alpha = 0.5) and speed environment, run ONE AFTER THE OTHER (PyTorch first), never at the same time.
#   deploy/bench/compare-pytorch.sh [mlp|cnn] [WORK_DIR]
# Prints a table: examples/s per stage (Pare's stage as `pare` runs it, Pare's compute loop, PyTorch, the ratios
# Pare / PyTorch) and the test accuracies side by side; writes everything to WORK_DIR/compare-<model>.json (both
# sides' own documents are WORK_DIR/pytorch-<model>.json and WORK_DIR/pare-<model>.json).
# WORK_DIR defaults to target/bench/compare-<model>. Installs the peer's Debian packages (python3-torch
# python3-numpy libopenblas0-openmp dataset-fashion-mnist) when torch does not import or the dataset is missing.
# Environment:
#   OMP_WAIT_POLICY (PASSIVE), OMP_NUM_THREADS (1), OPENBLAS_CORETYPE (SKYLAKEX on AVX-512 CPUs, as deploy/pare):
#     given to both sides
#   PEER_THREADS (OMP_NUM_THREADS): torch.set_num_threads of the peer
#   PARE_BENCH_MASTER (local[2]): Pare's Spark master (task slots of the calibrate, score-data, evaluate stages)
#   BENCH_LIMIT (0 = all 60000): train on the first N training rows only, for smoke tests
#   BENCH_TEACHER_EPOCHS (5), BENCH_KD_EPOCHS (2), BENCH_CRITERIA (magnitude,wanda), BENCH_SPARSITIES (0.5,0.7,0.9),
#   BENCH_KD (configurations distilled: all for mlp; wanda@0.5 for cnn, whose DL4J training runs at ~1k examples/s)
# Run on a quiet machine: with 2 cores, any other busy process distorts every number.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. "$root/deploy/bench/lib.sh"
model=mlp
if [[ $# -gt 0 && ( $1 == mlp || $1 == cnn ) ]]; then
  model=$1
  shift
fi
work=${1:-$root/target/bench/compare-$model}
mkdir -p "$work"
work=$(cd "$work" && pwd)
peer=$(cd "$root/.." && pwd)/shared/bench/pytorch-peer/fmnist_peer.py
[ -f "$peer" ] || { echo "compare-pytorch: the PyTorch reference $peer is missing" >&2; exit 1; }

# 1. The peer's packages (Debian's torch needs libopenblas0-openmp, or it is ~30x slower) and the idx files.
idx=/usr/share/datasets/fashion-mnist
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || [ ! -f "$idx/train-images-idx3-ubyte.gz" ]; then
  echo "compare-pytorch: installing python3-torch python3-numpy libopenblas0-openmp dataset-fashion-mnist" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-torch python3-numpy libopenblas0-openmp \
    dataset-fashion-mnist >&2
fi
# Pare reads the same idx files, converted once to Parquet (pixels / 255 as the peer, ids in file order).
data-samples/fashion-mnist/fetch-full.sh >&2
full=$root/data-samples/fashion-mnist/full

# 2. One protocol for both sides.
bench_speed_env
peer_threads=${PEER_THREADS:-$OMP_NUM_THREADS}
master=${PARE_BENCH_MASTER:-local[2]}
limit=${BENCH_LIMIT:-0}
teacher_epochs=${BENCH_TEACHER_EPOCHS:-5}
kd_epochs=${BENCH_KD_EPOCHS:-2}
criteria=${BENCH_CRITERIA:-magnitude,wanda}
sparsities=${BENCH_SPARSITIES:-0.5,0.7,0.9}
if [ "$model" = cnn ]; then kd=${BENCH_KD:-wanda@0.5}; arch=lenet-5; else kd=${BENCH_KD:-all}; arch=lenet-300-100; fi
batch=128
lr=0.001
calib=2048
temperature=4
# Both losses are alpha * CE(hard labels) + (1 - alpha) * T^2 * KL(teacher || student): Pare's distill.alpha
# (KnowledgeDistillationLoss) and the peer's --alpha (kd_loss) weigh the same term, so the value maps as is.
alpha=0.5
peer_alpha=$alpha
# The peer's data-pruning phase holds its scoring pass (the score-data counterpart); with no fractions it
# distills nothing more. It scores with the Wanda 50% student's teacher, so it needs wanda@0.5 among the configs.
scoring=(--data-fracs "")
if [[ ",$criteria," != *,wanda,* || ",$sparsities," != *,0.5,* ]]; then scoring=(--no-data-pruning); fi
limit_args=()
pare_limit=()
if [ "$limit" != 0 ]; then
  limit_args=(--limit-train "$limit")
  pare_limit=(--limit "$limit")
fi

echo "compare-pytorch: 1/2 PyTorch peer ($model, $peer_threads threads) -> $work/pytorch-$model.json" >&2
/usr/bin/python3 "$peer" --model "$model" --out "$work/pytorch-$model.json" --save-dir "$work/pytorch-files" \
  --threads "$peer_threads" --seed 0 --epochs "$teacher_epochs" --lr "$lr" --batch "$batch" --eval-batch 1000 \
  --conv-act relu --calib "$calib" --calib-batch "$batch" --sparsities "$sparsities" --criteria "$criteria" \
  --nm-criteria "" --kd-epochs "$kd_epochs" --kd-lr "$lr" --T "$temperature" --alpha "$peer_alpha" --recover "$kd" \
  --no-finetune --no-dense-control "${scoring[@]}" "${limit_args[@]}"

echo "compare-pytorch: 2/2 Pare ($arch, Spark $master) -> $work/pare-$model.json" >&2
bench_main FashionMnistBenchmark "$full/train.parquet" "$full/test.parquet" "$work/pare" --master "$master" \
  --architecture "$arch" --teacher-epochs "$teacher_epochs" --kd-epochs "$kd_epochs" --batch-size "$batch" \
  --learning-rate "$lr" --temperature "$temperature" --alpha "$alpha" --calibration-samples "$calib" \
  --score-batch-size 1000 --criteria "$criteria" --sparsities "$sparsities" --kd "$kd" "${pare_limit[@]}" \
  > "$work/pare-$model.json"

notes=(--note "run one after the other on $(getconf _NPROCESSORS_ONLN) cores: PyTorch with $peer_threads threads, then Pare with Spark $master ($OMP_NUM_THREADS OpenMP threads per task and on the driver)")
if [ "$limit" != 0 ]; then
  notes+=(--note "SMOKE TEST: both sides trained and scored on the first $limit training rows only (BENCH_LIMIT)")
fi
bench_main BenchTool compare --model "$model" --pare "$work/pare-$model.json" --pytorch "$work/pytorch-$model.json" \
  --env "OMP_WAIT_POLICY=$OMP_WAIT_POLICY" --env "OMP_NUM_THREADS=$OMP_NUM_THREADS" \
  --env "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-}" "${notes[@]}" --out "$work/compare-$model.json"
