package dev.pare.jobs.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.data.ExampleArrays;
import dev.pare.jobs.io.ColumnarScan;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.io.ParquetExampleScan;
import dev.pare.jobs.io.PartitionChecks;
import dev.pare.jobs.spark.Rows;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Reading an example table's rows as Pare's tasks read them ({@link ColumnarScan}: id, features,
 * label, every row's features copied out as a task's batch does), with Pare's Parquet reader and
 * with Spark's vectorized reader ({@value ParquetExampleScan#SETTING}), alternating in one JVM. Prints
 * one JSON document: each reader's job seconds, medians, the ratio, and a checksum of the values read
 * (the same for both, or the run fails).
 *
 * <p>With {@code --decode}, it times Pare's decoding alone instead: the features column of every file of
 * the table read by {@link ParquetExampleScan#decodeFloatLists} on one thread, no Spark job, in
 * nanoseconds per float. With {@code --checks}, it times Pare's reader with and without the checks a stage's
 * pass makes of every row ({@link PartitionChecks}), alternating, instead of the two readers (a table with
 * rows the checks leave out fails the run: the checksums differ).
 *
 * <p>Usage: {@code PARE_MAIN=dev.pare.jobs.bench.ScanBenchmark deploy/pare TABLE [--rounds N] [--master M]
 * [--decode | --checks [--classes C]]}
 */
@Command(name = "ScanBenchmark", mixinStandardHelpOptions = true,
        description = "Seconds to read an example table's rows: Pare's Parquet reader against Spark's.")
public final class ScanBenchmark implements Callable<Integer> {
    /** Rows per batch array: about a Fashion-MNIST row group's, as {@code score-data} cuts them. */
    private static final int BATCH = 1000;

    @Parameters(index = "0", description = "A Parquet table of id (long), features (array<float>), label (int).")
    String table;

    @Option(names = "--rounds", defaultValue = "7", description = "Timed reads per reader (default ${DEFAULT-VALUE}),"
            + " after one untimed read each.")
    int rounds;

    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default ${DEFAULT-VALUE}).")
    String master;

    @Option(names = "--width", defaultValue = "784", description = "Features per row (default ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--decode", description = "Time Pare's decoding of the features alone: one thread, no Spark job.")
    boolean decode;

    @Option(names = "--checks", description = "Time Pare's reader with and without the example checks of a stage's"
            + " pass (PartitionChecks), instead of the two readers.")
    boolean checks;

    @Option(names = "--classes", defaultValue = "10", description = "Labels' classes for --checks (default"
            + " ${DEFAULT-VALUE}).")
    int classes;

    public static void main(String[] args) {
        Bench.main(new ScanBenchmark(), args);
    }

    @Override
    public Integer call() throws IOException {
        if (decode) {
            return decodeOnly();
        }
        SparkSession spark = SparkSession.builder().master(master).appName("pare-scan-benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            ObjectNode doc = Json.object();
            doc.put("benchmark", "scan");
            doc.put("table", table);
            ObjectNode machine = Bench.machine(doc, master);
            Dataset<Row> df = spark.read().parquet(table).select("id", "features", "label");
            String[] readers = checks ? new String[] {"unchecked", "checked"} : new String[] {"pare", "spark"};
            List<List<Double>> seconds = List.of(new ArrayList<>(), new ArrayList<>());
            long[] checksums = new long[2];
            for (int round = -1; round < rounds; round++) {
                for (int r = 0; r < readers.length; r++) {
                    spark.conf().set(ParquetExampleScan.SETTING, checks ? "pare" : readers[r]);
                    PartitionChecks parts = checks && r == 1
                            ? PartitionChecks.register(spark.sparkContext(), "checks", width, classes) : null;
                    final int w = width;
                    long t0 = System.nanoTime();
                    long sum = ColumnarScan.rows(df, width)
                            .mapPartitions(rows -> checksum(parts == null ? rows : parts.checked(rows), w))
                            .reduce(Long::sum);
                    double s = Bench.secondsSince(t0);
                    if (round >= 0) {
                        seconds.get(r).add(s);
                    }
                    checksums[r] = sum;
                }
                if (checksums[0] != checksums[1]) {
                    throw new IllegalStateException((checks ? "the checks left rows out" : "the readers read other values")
                            + ": checksums " + checksums[0] + " and " + checksums[1]);
                }
            }
            ArrayNode results = doc.putArray("readers");
            double[] medians = new double[2];
            for (int r = 0; r < readers.length; r++) {
                ObjectNode o = results.addObject();
                o.put("reader", readers[r]);
                ArrayNode all = o.putArray("seconds");
                seconds.get(r).forEach(all::add);
                medians[r] = Bench.median(seconds.get(r).stream().mapToDouble(Double::doubleValue).toArray());
                o.put("medianSeconds", medians[r]);
            }
            doc.put(checks ? "checkedOverUnchecked" : "sparkOverPare", medians[1] / medians[0]);
            doc.put("checksum", checksums[0]);
            doc.put("what", "seconds of one Spark job reading every row (id, features copied to batch arrays, label) of the"
                    + " table through ColumnarScan, " + (checks ? "with Pare's reader, its rows unchecked and checked"
                    + " (PartitionChecks) alternating" : "the readers alternating") + ", after one untimed read each");
            Bench.finish(machine);
            System.out.println(doc.toPrettyString());
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** {@code --decode}: nanoseconds per float of decoding every file's features, one thread, round after round. */
    private int decodeOnly() throws IOException {
        ObjectNode doc = Json.object();
        doc.put("benchmark", "decode");
        doc.put("table", table);
        ObjectNode machine = Bench.machine(doc, "none (one thread)");
        Configuration conf = new Configuration();
        List<Path> files = new dev.pare.jobs.io.Files(conf).dataFiles(new Path(table));
        List<Double> nanos = new ArrayList<>();
        long[] checksum = new long[1];
        long floats = 0;
        for (int round = -1; round < rounds; round++) {
            checksum[0] = 0;
            floats = 0;
            long t0 = System.nanoTime();
            for (Path file : files) {
                floats += ParquetExampleScan.decodeFloatLists(conf, file, "features", 4096, checksum);
            }
            if (round >= 0) {
                nanos.add((System.nanoTime() - t0) / (double) floats);
            }
        }
        ArrayNode all = doc.putArray("nanosPerFloat");
        nanos.forEach(all::add);
        double[] secondHalf = nanos.subList(nanos.size() / 2, nanos.size()).stream().mapToDouble(Double::doubleValue)
                .toArray();
        doc.put("medianNanosPerFloatSecondHalf", Bench.median(secondHalf));
        doc.put("floats", floats);
        doc.put("files", files.size());
        doc.put("checksum", checksum[0]);
        doc.put("what", "nanoseconds per float of ParquetExampleScan.decodeFloatLists over the table's files (batches"
                + " of 4096 rows into one reused vector, decompression included), one thread, after one untimed round");
        Bench.finish(machine);
        System.out.println(doc.toPrettyString());
        return 0;
    }

    /**
     * The sum of every id, label and feature's bits of a partition's rows, read into batch arrays of up to
     * {@link #BATCH} rows as a task's batches are ({@link Rows#takeInternal}).
     */
    private static java.util.Iterator<Long> checksum(java.util.Iterator<InternalRow> rows, int width) {
        long sum = 0;
        while (rows.hasNext()) {
            ExampleArrays batch = Rows.takeInternal(rows, BATCH, width);
            for (float v : batch.features()) {
                sum += Float.floatToRawIntBits(v);
            }
            for (int i = 0; i < batch.size(); i++) {
                sum += batch.ids()[i] + batch.labels()[i];
            }
        }
        return List.of(sum).iterator();
    }
}
