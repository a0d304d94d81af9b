#!/usr/bin/env bash
# A self-contained bundle for running the benchmarks on a Linux x86-64 machine that has neither a JDK nor
# Maven (the GPU machines lent to this project, say): a jlink runtime of this JDK, pare-cluster.jar and the
# Spark classpath, and the full Fashion-MNIST set, as one xz tarball cut into pieces of at most PIECE bytes
# (default 48000000: one piece per call where a call carries 64 MiB). deploy/bench/bundle-run.sh unpacks
# it there and runs a command against it.
#   deploy/bench/bundle.sh [OUT_DIR] [PIECE]     (default target/bench/bundle)
# Needs here: a JDK with jmods (jlink), zip, unzip, xz; strip (binutils) where present. The jars are re-stored
# uncompressed before xz (xz gains little on deflated jars), their native libraries stripped of the symbols
# that dynamic linking does not need (libnd4jcpu.so alone: 366 -> 329 MB): 142 MB in all on 2026-11-26
# before stripping, 177 MB (four pieces of 45 MB) on 2026-11-27 with it. Left out: rocksdbjni (59 MB), used only by
# Spark's disk-backed UI store (spark.ui.store.path) and history server, which the benchmarks do not use.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. "$root/deploy/bench/lib.sh"
out=${1:-$root/target/bench/bundle}
piece=${2:-48000000}
for tool in jlink zip unzip xz; do
  command -v "$tool" > /dev/null || { echo "bundle: $tool is needed" >&2; exit 1; }
done
bench_dist
data-samples/fashion-mnist/fetch-full.sh >&2
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "$out/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
echo "bundle: jlink runtime" >&2
jlink --add-modules java.base,java.compiler,java.datatransfer,java.desktop,java.instrument,java.logging,\
java.management,java.management.rmi,java.naming,java.net.http,java.prefs,java.rmi,java.scripting,\
java.security.jgss,java.security.sasl,java.sql,java.sql.rowset,java.transaction.xa,java.xml,java.xml.crypto,\
jdk.unsupported,jdk.jfr,jdk.management,jdk.management.agent,jdk.management.jfr,jdk.crypto.ec,jdk.attach,\
jdk.jcmd,jdk.httpserver,jdk.zipfs,jdk.naming.dns,jdk.security.auth,jdk.xml.dom,jdk.charsets,jdk.net \
  --strip-debug --no-man-pages --no-header-files --compress=0 --output "$stage/jre"
mkdir -p "$stage/lib" "$stage/data"
echo "bundle: re-storing the jars uncompressed" >&2
{ tr ':' '\n' < pipeline-jobs/target/spark-classpath.txt | grep -v '/rocksdbjni-'; echo "$root/pipeline-jobs/target/pare-cluster.jar"; } |
  while read -r jar; do
    [ -n "$jar" ] || continue
    t=$(mktemp -d "$stage/.jar.XXXXXX")
    (cd "$t" && { unzip -q -o "$jar" || [ $? -eq 1 ]; })  # 1: warnings only
    if command -v strip > /dev/null; then
      # x86-64 Linux ones only (the jars carry other platforms' too); strip leaves a file it cannot read as it was.
      find "$t" -type f \( -name '*.so' -o -name '*.so.[0-9]*' \) \( -path '*x86?64*' -o -path '*amd64*' \) \
        -exec sh -c 'strip --strip-unneeded "$@" 2> /dev/null || true' strip {} +
    fi
    (cd "$t" && zip -q -0 -X -r "$stage/lib/$(basename "$jar")" .)
    rm -rf "$t"
  done
cp -r data-samples/fashion-mnist/full/train.parquet data-samples/fashion-mnist/full/test.parquet "$stage/data/"
echo "bundle: compressing" >&2
rm -f "$out"/bundle.tar.xz.*
tar -C "$stage" -cf - jre lib data | xz -T0 -6 | split -b "$piece" -d -a 2 - "$out/bundle.tar.xz."
ls -l "$out"/bundle.tar.xz.* >&2
echo "$out"
