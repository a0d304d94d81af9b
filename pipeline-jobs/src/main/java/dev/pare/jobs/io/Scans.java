package dev.pare.jobs.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.spark.Partition;
import org.apache.spark.SparkContext;
import org.apache.spark.paths.SparkPath;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.FileStatusWithMetadata;
import org.apache.spark.sql.execution.datasources.PartitionDirectory;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import scala.collection.JavaConverters;

/**
 * File scans of example tables split for compute-bound tasks.
 *
 * <p>Spark sizes file splits for I/O: a split is at least {@code spark.sql.files.openCostInBytes}
 * (4 MB) and about the table's bytes over the cores, and a file smaller than a split is read whole.
 * Fashion-MNIST's 60k rows in three 9 MB files ran {@code score-data} as three tasks on two slots,
 * the third alone while the other slot idled (LeNet-5: 4.0 and 5.3 s side by side, then 4.5 s). Where
 * a task's rows cost milliseconds of model time each, the split should follow the slots instead:
 * {@link #planned} sets {@code spark.sql.files.minPartitionNum} to {@value #SETTING}
 * ({@value #DEFAULT_TASKS_PER_SLOT} by default) × the task slots and {@code openCostInBytes} to 0
 * while it plans a job, so the scan has about that many splits of equal bytes; several per slot even
 * out row-group boundaries and executors that start late. A split holds the row groups whose middle
 * lies in it: a file of one row group is still read by one task ({@code pare import-idx} writes
 * groups of {@value #IMPORT_ROW_GROUP_BYTES} bytes). Spark's {@code spark.sql.files.maxPartitionBytes}
 * still caps a split; {@value #SETTING} = 0 leaves the scans to Spark's settings.
 *
 * <p>Spark 3.5 reads the features array with its vectorized Parquet reader
 * ({@code spark.sql.parquet.enableNestedColumnVectorizedReader}, on by default): LeNet-300-100
 * {@code score-data} of Fashion-MNIST's 60k rows took 1.66-1.73 s that way and 2.05-2.33 s row by row.
 * Its column batches hold up to {@code spark.sql.parquet.columnarReaderBatchSize} rows (4096) of a row
 * group whatever their width (2.4 GB of 224×224×3 images), and grow by doubling: a table of 3,000 rows
 * of 3×112×112 floats in one row group ran out of a 3 GB heap. While it plans, Pare lowers that setting
 * to {@value #COLUMN_BATCH_BYTES} bytes of features ({@link #columnBatchRows}): 27 such images, and
 * still 4096 Fashion-MNIST rows (12.8 MB). Where {@link ParquetExampleScan} reads a scan instead of
 * Spark's reader, its batches follow the same setting.
 *
 * <p>Where {@link ParquetExampleScan} reads a scan, its splits are {@link #partitions}' instead of Spark's:
 * the files laid end to end and cut into that many pieces of equal bytes, a piece taking the end of one
 * file and the start of the next where the cut falls so. Spark's splits are equal only within a file:
 * its three 9 MB Fashion-MNIST files, planned for 4 tasks, made splits of 6.8 and 2.2 MB, packed into
 * 5 tasks (LeNet-5 {@code score-data}: 6.9, 7.3, 6.3, 3.5 and 1.6 s), and one slot idled for the
 * last 0.8 s of the stage. Cutting them also leaves out Spark's file-scan RDD, which Pare's reader
 * does not use and whose reading function broadcasts the Hadoop configuration (80 ms of a fresh
 * driver's planning).
 */
public final class Scans {
    /** Spark setting: scan tasks per executor task slot; 0 leaves file splits to {@code spark.sql.files.*}. */
    public static final String SETTING = "spark.pare.scanTasksPerSlot";
    public static final int DEFAULT_TASKS_PER_SLOT = 2;
    /** Parquet row-group size of the tables {@code import-idx} writes (about 1,300 Fashion-MNIST rows). */
    public static final long IMPORT_ROW_GROUP_BYTES = 1 << 20;

    /** Bytes of features in one column batch of a vectorized scan. */
    public static final long COLUMN_BATCH_BYTES = 16L << 20;

    private static final String MIN_PARTITIONS = "spark.sql.files.minPartitionNum";
    private static final String OPEN_COST = "spark.sql.files.openCostInBytes";
    private static final String BATCH_ROWS = "spark.sql.parquet.columnarReaderBatchSize";

    private Scans() {}

    /**
     * Tasks per slot from a setting's value ({@code null}: the default).
     *
     * @throws BadInputException naming {@value #SETTING} when the value is not an integer ≥ 0
     */
    public static int tasksPerSlot(String value) {
        if (value == null) {
            return DEFAULT_TASKS_PER_SLOT;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new BadInputException(SETTING + " must be an integer >= 0 (0: Spark's own file splits), was '"
                + value + "'");
    }

    /**
     * The tasks the session's registered executors can run at once (local[N]: N); before any
     * executor registered, Spark's default parallelism (alone it would not do: a 1-core cluster's is 2).
     */
    public static int taskSlots(SparkSession spark) {
        SparkContext sc = spark.sparkContext();
        // private[spark] in Scala, public to Java: the count barrier stages check their slots against.
        int slots = sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
        return slots > 0 ? slots : sc.defaultParallelism();
    }

    /**
     * The splits of {@code scan}, planned for compute as above and read by a reader of Pare's: with
     * {@value #SETTING} = 0, Spark's own ({@code inputRDD}'s partitions); otherwise the scan's files
     * (those its partition filters select, in the listing's order) cut into {@link #pieces} pieces of
     * equal bytes ({@link #cut}), each a file partition holding a range of each file it spans. A
     * Parquet reader takes the row groups whose middle lies in its range, so each row group is read by
     * one piece. A range's preferred hosts are those of its file's block that overlaps it most, as in
     * Spark's splits.
     */
    public static Partition[] partitions(FileSourceScanExec scan) {
        SparkSession spark = scan.relation().sparkSession();
        int perSlot = tasksPerSlot(spark.conf().get(SETTING, null));
        if (perSlot == 0) {
            return scan.inputRDD().partitions();
        }
        List<FileStatusWithMetadata> files = new ArrayList<>();
        List<InternalRow> values = new ArrayList<>();
        for (PartitionDirectory d : scan.dynamicallySelectedPartitions()) {
            for (FileStatusWithMetadata f : JavaConverters.seqAsJavaList(d.files())) {
                files.add(f);
                values.add(d.values());
            }
        }
        long[] lengths = files.stream().mapToLong(FileStatusWithMetadata::getLen).toArray();
        long total = java.util.Arrays.stream(lengths).sum();
        int pieces = pieces(total, (long) perSlot * taskSlots(spark),
                spark.sessionState().conf().filesMaxPartitionBytes());
        List<List<Range>> cut = cut(lengths, pieces);
        Partition[] out = new Partition[cut.size()];
        for (int i = 0; i < out.length; i++) {
            List<Range> ranges = cut.get(i);
            PartitionedFile[] split = new PartitionedFile[ranges.size()];
            for (int j = 0; j < split.length; j++) {
                Range r = ranges.get(j);
                FileStatusWithMetadata f = files.get(r.file());
                split[j] = new PartitionedFile(values.get(r.file()), SparkPath.fromPath(f.getPath()), r.start(),
                        r.length(), hosts(f.fileStatus(), r.start(), r.length()), f.getModificationTime(), f.getLen(),
                        f.metadata());
            }
            out[i] = new FilePartition(i, split);
        }
        return out;
    }

    /**
     * The number of pieces of a scan of {@code totalBytes}: {@code wanted} (tasks per slot × slots), or
     * more where pieces of {@code maxPieceBytes} ({@code spark.sql.files.maxPartitionBytes}) would not hold
     * the bytes; at least 1, at most one per byte.
     */
    static int pieces(long totalBytes, long wanted, long maxPieceBytes) {
        long capped = (totalBytes + maxPieceBytes - 1) / Math.max(1, maxPieceBytes);
        long n = Math.max(Math.max(1, wanted), capped);
        return (int) Math.min(Math.min(n, Math.max(1, totalBytes)), Integer.MAX_VALUE);
    }

    /** Bytes {@code [start, start + length)} of file {@code file} (its index in the scan's listing). */
    record Range(int file, long start, long length) {}

    /**
     * Files of {@code lengths} bytes laid end to end and cut into {@code pieces} pieces: piece {@code j}
     * holds bytes {@code [⌊j·T/pieces⌋, ⌊(j+1)·T/pieces⌋)} of the {@code T} in all, as ranges of the files
     * it spans, in order. Empty files are in no piece; with no bytes at all there are no pieces.
     */
    static List<List<Range>> cut(long[] lengths, int pieces) {
        long total = java.util.Arrays.stream(lengths).sum();
        List<List<Range>> out = new ArrayList<>();
        if (total == 0) {
            return out;
        }
        int file = 0;
        long fileStart = 0;
        for (int j = 0; j < pieces; j++) {
            long from = bound(total, j, pieces);
            long to = bound(total, j + 1, pieces);
            List<Range> ranges = new ArrayList<>();
            while (from < to) {
                while (fileStart + lengths[file] <= from) {
                    fileStart += lengths[file];
                    file++;
                }
                long end = Math.min(to, fileStart + lengths[file]);
                ranges.add(new Range(file, from - fileStart, end - from));
                from = end;
            }
            out.add(ranges);
        }
        return out;
    }

    /** ⌊j·total/pieces⌋ without overflow. */
    private static long bound(long total, int j, int pieces) {
        return java.math.BigInteger.valueOf(total).multiply(java.math.BigInteger.valueOf(j))
                .divide(java.math.BigInteger.valueOf(pieces)).longValueExact();
    }

    /** The hosts of {@code status}'s block that overlaps {@code [start, start + length)} most; none without blocks. */
    private static String[] hosts(FileStatus status, long start, long length) {
        if (!(status instanceof LocatedFileStatus located) || located.getBlockLocations() == null) {
            return new String[0];
        }
        String[] best = new String[0];
        long most = 0;
        for (BlockLocation b : located.getBlockLocations()) {
            long overlap = Math.min(b.getOffset() + b.getLength(), start + length) - Math.max(b.getOffset(), start);
            if (overlap > most) {
                try {
                    best = b.getHosts();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                most = overlap;
            }
        }
        return best;
    }

    /**
     * Rows of a column batch of {@code featureLength} floats per row: as many as fit in
     * {@value #COLUMN_BATCH_BYTES} bytes, at least 1, at most {@code sessionRows} (the session's
     * {@code columnarReaderBatchSize}).
     */
    public static int columnBatchRows(long featureLength, int sessionRows) {
        long fit = COLUMN_BATCH_BYTES / (Float.BYTES * Math.max(1, featureLength));
        return (int) Math.max(1, Math.min(sessionRows, fit));
    }

    /**
     * Runs {@code plan}, which must plan its job's scans (e.g. {@code queryExecution().toRdd()},
     * {@code Dataset.toJavaRDD()}) of example rows of {@code featureLength} features, with the
     * file-split and column-batch settings above, then restores the session's own. The driver plans one
     * job at a time: a job planned on another thread meanwhile would see them too.
     */
    public static <T> T planned(SparkSession spark, long featureLength, Supplier<T> plan) {
        RuntimeConfig conf = spark.conf();
        Map<String, String> set = new LinkedHashMap<>();
        int perSlot = tasksPerSlot(conf.get(SETTING, null));
        if (perSlot > 0) {
            set.put(MIN_PARTITIONS, Long.toString(Math.min((long) perSlot * taskSlots(spark), Integer.MAX_VALUE)));
            set.put(OPEN_COST, "0");
        }
        // Spark's typed reading: its default (4096) when unset, its own error naming the key when malformed.
        int sessionRows = spark.sessionState().conf().parquetVectorizedReaderBatchSize();
        set.put(BATCH_ROWS, Integer.toString(columnBatchRows(featureLength, sessionRows)));
        Map<String, String> saved = new LinkedHashMap<>();
        for (String key : set.keySet()) {
            saved.put(key, conf.contains(key) ? conf.get(key) : null);
        }
        try {
            set.forEach(conf::set);
            return plan.get();
        } finally {
            saved.forEach((key, value) -> {
                if (value == null) {
                    conf.unset(key);
                } else {
                    conf.set(key, value);
                }
            });
        }
    }
}
