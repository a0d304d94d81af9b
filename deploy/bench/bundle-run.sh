#!/usr/bin/env bash
# Runs COMMAND in this checkout with the bundle of deploy/bench/bundle.sh instead of a JDK and Maven: unpacks
# the pieces in PIECES_DIR (bundle.tar.xz.NN, in name order) once into UNPACK_DIR, puts its Java runtime first
# on PATH, its pare-cluster.jar and Spark classpath where deploy/ looks for them, and the data set under
# data-samples/fashion-mnist/full. Needs only bash, tar, xz (or python3) and coreutils; without unzip,
# standalone-cluster.sh's jar check goes through a python3 stand-in.
#   deploy/bench/bundle-run.sh PIECES_DIR COMMAND [ARGS...]
#   e.g. deploy/bench/bundle-run.sh /tmp/pieces deploy/bench/scale-out.sh /tmp/scale-out
# Environment: UNPACK_DIR (/tmp/pare-bundle).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 PIECES_DIR COMMAND [ARGS...]" >&2; exit 2; }
pieces=$1
shift
b=${UNPACK_DIR:-/tmp/pare-bundle}
if [ ! -x "$b/jre/bin/java" ]; then
  compgen -G "$pieces/bundle.tar.xz.*" > /dev/null || { echo "bundle-run: no bundle.tar.xz.* in $pieces" >&2; exit 1; }
  mkdir -p "$b.partial"
  if command -v xz > /dev/null; then
    cat "$pieces"/bundle.tar.xz.* | xz -dc -T0 | tar -x -C "$b.partial"
  else
    cat "$pieces"/bundle.tar.xz.* | python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)' |
      tar -x -C "$b.partial"
  fi
  rm -rf "$b" && mv "$b.partial" "$b"
fi
if ! command -v unzip > /dev/null; then
  # standalone-cluster.sh only asks `unzip -l JAR ENTRY` whether a class is in a jar.
  mkdir -p "$b/shim"
  printf '%s\n' '#!/usr/bin/env python3' 'import sys, zipfile' 'a = [x for x in sys.argv[1:] if not x.startswith("-")]' \
    'names = set(zipfile.ZipFile(a[0]).namelist())' 'sys.exit(0 if all(n in names for n in a[1:]) else 11)' > "$b/shim/unzip"
  chmod +x "$b/shim/unzip"
  export PATH=$b/shim:$PATH
fi
export JAVA_HOME=$b/jre PATH=$b/jre/bin:$PATH
cd "$root"
mkdir -p pipeline-jobs/target data-samples/fashion-mnist/full
cp -p "$b/lib/pare-cluster.jar" pipeline-jobs/target/pare-cluster.jar  # -p: the same jar keeps the same class-data archive (deploy/pare)
ls "$b"/lib/*.jar | grep -v '/pare-cluster.jar$' | paste -sd: > pipeline-jobs/target/spark-classpath.txt
for t in train test; do
  [ -d "data-samples/fashion-mnist/full/$t.parquet" ] || cp -r "$b/data/$t.parquet" data-samples/fashion-mnist/full/
done
# deploy/pare runs PARE_JAR when set (no Maven); bench_submit sets its own for spark-submit.
export PARE_JAR="$root/pipeline-jobs/target/pare-cluster.jar:$(cat pipeline-jobs/target/spark-classpath.txt)"
export SCALE_TRAIN=${SCALE_TRAIN:-$root/data-samples/fashion-mnist/full/train.parquet}
export SCALE_TEST=${SCALE_TEST:-$root/data-samples/fashion-mnist/full/test.parquet}
export PARE_GIT_REVISION=${PARE_GIT_REVISION:-bundle}
exec "$@"
