package dev.pare.jobs.spark;

import static org.apache.spark.sql.functions.col;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Precision;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.ColumnarScan;
import dev.pare.jobs.io.DriverIds;
import dev.pare.jobs.io.ExampleChecks;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.PartitionChecks;
import dev.pare.jobs.io.Scans;
import java.io.Serializable;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.rdd.ShuffledRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.XXH64;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;
import scala.math.Ordering$;
import scala.reflect.ClassTag$;

/**
 * The distributed calibration pass: a seeded sample of the training set, split into shards, each
 * shard run through the teacher on an executor to accumulate per-layer statistics, the partial
 * statistics merged on the driver in partition order (so a given input, seed and shard count
 * gives bit-identical statistics).
 *
 * <p>The teacher runs in the {@link Precision} of the settings. Float GEMM results change in their
 * last bits with the batch composition, so float statistics are bit-identical for a given sample,
 * shard count and batch size (all fixed by the config), and change by float rounding with another
 * batching; in double they agree with any other batching to ~1e-15 relative, at about twice the cost.
 */
public final class CalibrationJob {
    /** The description of every Spark job of {@link #run} (Spark UI, REST API, event log). */
    public static final String JOB_DESCRIPTION = "pare calibrate: teacher statistics per shard";
    /** The description of the sample's ranking job, when it runs as one ({@link #rank}). */
    static final String RANKING_DESCRIPTION = "pare calibrate: ranking the sample's keys";

    private CalibrationJob() {}

    /**
     * The calibration sample: the {@code samples} rows with the smallest
     * {@code xxhash64(id, derived seed)} (ties by id), in {@code shards} partitions: with the rows
     * ranked 0..n-1 in that order ({@code n = samples}), shard {@code k} holds ranks
     * {@code [k·n/shards, (k+1)·n/shards)} in rank order. So the shards, and with them the statistics'
     * last bits, depend only on the input rows, {@code samples}, {@code shards} and the seed: not on
     * the input's partitioning, on which executor computes a shard or recomputes a lost one, or on
     * what else ran in the session before. ({@code repartitionByRange} would not do: Spark draws its
     * range bounds from a sample seeded by the RDD's id, the number of RDDs the session made before.)
     *
     * <p>The ranking reads only the ids ({@link #rank}): the driver gets the {@code samples}
     * smallest keys, and keeps the shards' first keys. One pass over the table then keeps the sampled
     * rows and sends each, once, to its shard: the features are shuffled once, and only the sample's.
     *
     * @param width the feature length of the rows (sizes the scan's column batches, {@link Scans})
     * @param samples the number of rows to draw; when the input has fewer, all are drawn
     */
    public static JavaRDD<Example> sample(Dataset<Row> train, int width, int samples, int shards, long seed) {
        return draw(train, width, samples, shards, seed, null, IN_MEMORY_SHARD_BYTES).rows();
    }

    /**
     * {@link #sample(Dataset, int, int, int, long)}, whose pass over the table also checks every row it reads
     * ({@link ExampleChecks} for rows of {@code width} features and labels in {@code [0, classes)}): the
     * table is read once for both, where a stage would otherwise check it in a pass of its own first.
     * {@link Sample#checks} runs that pass; rows with a null id, features or label are counted there and
     * not sampled.
     */
    public static Sample sample(Dataset<Row> train, int width, int samples, int shards, long seed, int classes) {
        return draw(train, width, samples, shards, seed, new ExampleChecks(width, classes), IN_MEMORY_SHARD_BYTES);
    }

    /**
     * The largest shard, in estimated bytes of its records ({@link #shardBytes}), whose task puts its rows in key
     * order itself ({@link #inKeyOrder}); a larger one goes through Spark's sort of the shuffle's reduce side,
     * which spills to disk. The same order either way. Spark's sorter (an {@code ExternalSorter}, with its
     * size estimates and spill checks) cost a fresh JVM's first statistics tasks more: LeNet-5 {@code calibrate}
     * on 2048 samples, the statistics job 1.45-1.53 s against 1.23-1.38 s with the tasks' own sort (four
     * alternating pairs). 64 MiB holds a 15,000-row shard of Fashion-MNIST's 784 floats.
     */
    static final long IN_MEMORY_SHARD_BYTES = 64L << 20;

    /** Estimated heap bytes of a sampled row beyond its features: the key, the row, the pair and the array header. */
    private static final long RECORD_BYTES = 112;

    /** The estimated heap bytes of the records of the largest of {@code shards} shards of {@code rows} rows. */
    static long shardBytes(long rows, int shards, int width) {
        return (rows + shards - 1) / shards * (4L * width + RECORD_BYTES);
    }

    /**
     * The sample, and with {@code checks} (empty checks of the right length and classes) the rows' checks; shards
     * up to {@code inMemoryShardBytes} ({@link #shardBytes}) are put in key order by their tasks, larger ones by
     * Spark's sorter.
     */
    static Sample draw(Dataset<Row> train, int width, int samples, int shards, long seed, ExampleChecks checks,
                       long inMemoryShardBytes) {
        if (samples < 1 || shards < 1) {
            throw new IllegalArgumentException("samples and shards must be positive, were " + samples + ", " + shards);
        }
        final long s = Seeds.derive(seed, "calibration-sample", 0);
        final int p = shards;
        // The sample's pass planned first: the ranking reads its ids from the same plan on the driver.
        ColumnarScan.Planned scan = Rows.plannedInternal(train, width);
        Ranking ranking = rank(train, scan, samples, s, checks != null, DriverIds.MAX_IDS, DriverIds.MAX_FILES);
        RankKey[] ranked = ranking.smallest();
        SparkContext sc = train.sparkSession().sparkContext();
        if (checks != null && ranking.ids() != null) {
            checks.countedIds(ranking.ids());
        }
        if (ranked.length == 0) {
            // The ranking read every row's id: the table is empty.
            return new Sample(JavaSparkContext.fromSparkContext(sc).parallelize(List.<Example>of(), p), null, null,
                    checks);
        }
        final long n = ranked.length;
        // Rank r goes to shard floor(r·p/n): kept are each shard's first key, and the last key.
        List<RankKey> firsts = new java.util.ArrayList<>();
        for (int r = 0; r < ranked.length; r++) {
            int shard = (int) (r * (long) p / n);
            if (firsts.isEmpty() || firsts.get(firsts.size() - 1).shard() != shard) {
                firsts.add(new RankKey(ranked[r].key(), ranked[r].id(), shard));
            }
        }
        final RankKey last = ranked[ranked.length - 1];
        final RankKey[] starts = firsts.toArray(new RankKey[0]);
        final PartitionChecks parts = checks == null ? null
                : PartitionChecks.register(sc, "pare calibrate: the table's checks", width, checks.numClasses());
        // repartitionAndSortWithinPartitions (sorted by the shard's task or by Spark, below), with a serializer of
        // its own for this shuffle whatever spark.serializer says (SampleSerializer): calibrating all 60k
        // Fashion-MNIST rows in local[2] took 13.3 s (median of four) against 14.1 s with Spark's Kryo and
        // PareKryo's serializers, which had run 3-4% faster than Java's.
        RDD<Tuple2<RankKey, Example>> keyed = scan.rows().mapPartitionsToPair(rows -> new SampledRows(
                parts == null ? rows : parts.checked(rows), s, starts, last)).rdd();
        ShuffledRDD<RankKey, Example, Example> shuffled = new ShuffledRDD<>(keyed, new ShardPartitioner(p),
                ClassTag$.MODULE$.apply(RankKey.class), ClassTag$.MODULE$.apply(Example.class),
                ClassTag$.MODULE$.apply(Example.class));
        shuffled.setSerializer(new SampleSerializer());
        if (shardBytes(n, p, width) <= inMemoryShardBytes) {
            return new Sample(shuffled.toJavaRDD().mapPartitions(CalibrationJob::inKeyOrder), shuffled, parts, checks);
        }
        shuffled.setKeyOrdering(Ordering$.MODULE$.comparatorToOrdering(RankKey.ORDER));
        return new Sample(shuffled.toJavaRDD().map(Tuple2::_2), shuffled, parts, checks);
    }

    /**
     * A shard's rows in key order: the shuffle delivers them in the order its blocks arrive, which varies. Each
     * row is let go once returned, so the batches taken from the front do not double the task's memory.
     */
    static Iterator<Example> inKeyOrder(Iterator<Tuple2<RankKey, Example>> records) {
        java.util.ArrayList<Tuple2<RankKey, Example>> shard = new java.util.ArrayList<>();
        records.forEachRemaining(shard::add);
        shard.sort((a, b) -> a._1().compareTo(b._1()));
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < shard.size();
            }

            @Override
            public Example next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                Example e = shard.get(next)._2();
                shard.set(next++, null);
                return e;
            }
        };
    }

    /** The description of the sample's pass when {@link Sample#checks} runs it as a job of its own. */
    static final String SAMPLE_DESCRIPTION = "pare calibrate: drawing the sample, checking every row";

    /**
     * A calibration sample ({@link #rows}) and the checks of the table's rows made by the pass that draws
     * it ({@link #checks}).
     */
    public static final class Sample {
        private final JavaRDD<Example> rows;
        private final ShuffledRDD<RankKey, Example, Example> shuffled;
        private final PartitionChecks parts;
        private final ExampleChecks empty;
        private ExampleChecks checks;

        private Sample(JavaRDD<Example> rows, ShuffledRDD<RankKey, Example, Example> shuffled, PartitionChecks parts,
                       ExampleChecks empty) {
            this.rows = rows;
            this.shuffled = shuffled;
            this.parts = parts;
            this.empty = empty;
        }

        /** The sample's rows, in shards ({@link CalibrationJob#sample(Dataset, int, int, int, long)}). */
        public JavaRDD<Example> rows() {
            return rows;
        }

        /** Whether Spark's sorter puts the shards in key order (shards above {@link #IN_MEMORY_SHARD_BYTES}). */
        boolean sortedBySpark() {
            return shuffled != null
                    && ((ShuffleDependency<?, ?, ?>) shuffled.dependencies().head()).keyOrdering().isDefined();
        }

        /**
         * The checks of every row of the table, merged in partition order: the first call runs the pass that
         * draws the sample (the map stage of its shuffle, as a job of its own), whose output the jobs over
         * {@link #rows} then use as it is. A stage calls this before them, so that a bad table fails before
         * any model work, as a separate check would.
         */
        public ExampleChecks checks() {
            if (empty == null) {
                throw new IllegalStateException("this sample was drawn without checks");
            }
            if (checks == null) {
                checks = shuffled == null ? empty : runPass();
            }
            return checks;
        }

        private ExampleChecks runPass() {
            SparkContext sc = shuffled.sparkContext();
            String description = sc.getLocalProperty("spark.job.description");
            sc.setJobDescription(SAMPLE_DESCRIPTION);
            try {
                // SparkContext.submitMapStage (Scala's private[spark], public to Java; Spark's adaptive execution
                // runs map stages alone the same way): the shuffle's map outputs stay registered, so the
                // statistics job skips this stage, and a lost executor's outputs are recomputed as usual.
                @SuppressWarnings("unchecked")
                ShuffleDependency<RankKey, Example, Example> dependency =
                        (ShuffleDependency<RankKey, Example, Example>) shuffled.dependencies().head();
                sc.submitMapStage(dependency).get();
            } catch (SparkException e) {
                throw new IllegalStateException("the calibration sample's pass failed: " + e.getMessage(), e);
            } finally {
                sc.setJobDescription(description);
            }
            return parts.mergeInto(empty, shuffled.prev().getNumPartitions(), "the calibration sample's pass");
        }
    }

    /**
     * The {@code samples} smallest {@link RankKey}s of the table (shard 0), in order, and with
     * {@code countIds} the table's ids counted ({@link ExampleChecks.CountedIds}) when the driver read
     * them. The ids are read from the scan's column batches ({@link ColumnarScan}): on the driver with no
     * Spark job where {@link DriverIds#read} reads them within {@code maxRows} and {@code maxFiles};
     * otherwise in a job, each partition's smallest kept as they come, merged in a tree
     * ({@code treeAggregate}). Both give the same keys. Spark SQL's {@code orderBy(key, id).limit(samples)}
     * does the same in two stages and generated code: on Fashion-MNIST's 60k rows, 1.6-2.1 s of a calibrate
     * stage in {@code local[2]} against 0.3 s for the job, most of it planning and compiling the query; the
     * job itself took 0.53-0.60 s of a cold stage, the driver's read 0.3 s.
     */
    static Ranking rank(Dataset<Row> train, int samples, long seed, boolean countIds, long maxRows, int maxFiles) {
        // The tests' route: the ids' own query planned for them (draw reads them from its pass's plan instead).
        return rank(train, ColumnarScan.planned(train.select(col(ExampleTable.ID)), 1), samples, seed, countIds,
                maxRows, maxFiles);
    }

    /** {@link #rank(Dataset, int, long, boolean, long, int)}, the ids read on the driver from {@code planned}'s column 0. */
    static Ranking rank(Dataset<Row> train, ColumnarScan.Planned planned, int samples, long seed, boolean countIds,
                        long maxRows, int maxFiles) {
        Optional<long[]> read = planned.columnOnDriver(0).flatMap(rows -> DriverIds.read(rows, maxRows, maxFiles));
        if (read.isPresent()) {
            long[] all = read.get();
            SmallestKeys keys = new SmallestKeys(samples);
            for (long id : all) {
                keys.add(RankKey.key(id, seed), id);
            }
            return new Ranking(keys.sorted(), countIds ? ExampleChecks.CountedIds.of(all, all.length) : null);
        }
        org.apache.spark.SparkContext sc = train.sparkSession().sparkContext();
        String description = sc.getLocalProperty("spark.job.description");
        sc.setJobDescription(RANKING_DESCRIPTION);
        try {
            return new Ranking(ColumnarScan.rows(train.select(col(ExampleTable.ID)), 1).treeAggregate(new SmallestKeys(samples), (keys, row) -> {
                long id = row.getLong(0);
                return keys.add(RankKey.key(id, seed), id);
            }, SmallestKeys::merge, 2).sorted(), null);
        } finally {
            sc.setJobDescription(description);
        }
    }

    /** {@link #rank}'s result: the smallest keys, and the counted ids (null when not counted). */
    record Ranking(RankKey[] smallest, ExampleChecks.CountedIds ids) {}

    /**
     * The {@code limit} smallest (key, id) pairs added so far: pairs are appended to a buffer of twice
     * that, which is sorted and cut back to {@code limit} whenever it fills, so it holds at most
     * {@code 2·limit} pairs whatever a partition's size.
     */
    static final class SmallestKeys implements Serializable {
        private static final long serialVersionUID = 1L;
        private final int limit;
        private long[] keys = new long[0];
        private long[] ids = new long[0];
        private int size;

        SmallestKeys(int limit) {
            this.limit = limit;
        }

        SmallestKeys add(long key, long id) {
            if (size == keys.length) {
                if (size >= 2L * limit) {
                    cut();
                } else {
                    int capacity = (int) Math.min(2L * limit, Math.max(16L, 2L * size));
                    keys = java.util.Arrays.copyOf(keys, capacity);
                    ids = java.util.Arrays.copyOf(ids, capacity);
                }
            }
            keys[size] = key;
            ids[size] = id;
            size++;
            return this;
        }

        /** Adds {@code other}'s pairs to this one (whose buffer is reused) and returns this one. */
        SmallestKeys merge(SmallestKeys other) {
            for (int i = 0; i < other.size; i++) {
                add(other.keys[i], other.ids[i]);
            }
            return this;
        }

        /** The held pairs, at most {@code limit}, smallest first. */
        RankKey[] sorted() {
            cut();
            RankKey[] out = new RankKey[size];
            for (int i = 0; i < size; i++) {
                out[i] = new RankKey(keys[i], ids[i], 0);
            }
            return out;
        }

        private void cut() {
            RankKey[] all = new RankKey[size];
            for (int i = 0; i < size; i++) {
                all[i] = new RankKey(keys[i], ids[i], 0);
            }
            java.util.Arrays.sort(all, RankKey.ORDER);
            size = Math.min(size, limit);
            for (int i = 0; i < size; i++) {
                keys[i] = all[i].key();
                ids[i] = all[i].id();
            }
        }
    }

    /** A sampled row: its features as a primitive array, not a Row's boxed floats. */
    public record Example(long id, float[] features, int label) implements Serializable {}

    /**
     * Up to {@code max} sampled rows from {@code it} as example arrays, the features copied into {@code into}
     * when it holds the batch's (the examples then hold {@code into} itself, ids and labels are theirs; null:
     * a fresh array): a task's batches share one array, where each had a fresh one (800 KB per 256-row batch
     * of Fashion-MNIST, 188 MB per 60k rows).
     */
    static ExampleArrays take(Iterator<Example> it, int max, int width, float[] into) {
        java.util.List<Example> batch = new java.util.ArrayList<>(max);
        while (batch.size() < max && it.hasNext()) {
            batch.add(it.next());
        }
        int n = batch.size();
        long[] ids = new long[n];
        int[] labels = new int[n];
        float[] features = into != null && into.length >= (long) n * width ? into : new float[n * width];
        for (int r = 0; r < n; r++) {
            Example e = batch.get(r);
            if (e.features().length != width) {
                throw new IllegalArgumentException("example id " + e.id() + ": column " + ExampleTable.FEATURES
                        + " holds " + e.features().length + " values, expected " + width);
            }
            ids[r] = e.id();
            labels[r] = e.label();
            System.arraycopy(e.features(), 0, features, r * width, width);
        }
        return new ExampleArrays(ids, features, width, labels);
    }

    /**
     * A row's place in the sample order ({@code xxhash64(id, seed)}, then id) and its shard. The key
     * is Spark's {@code xxhash64(id, s)}: the id hashed with Spark's seed 42, then {@code s} with that.
     */
    record RankKey(long key, long id, int shard) implements Serializable {
        static final Comparator<RankKey> ORDER = (Comparator<RankKey> & Serializable) (a, b) -> a.compareTo(b);

        static long key(long id, long s) {
            return XXH64.hashLong(s, XXH64.hashLong(id, 42L));
        }

        int compareTo(RankKey o) {
            int c = Long.compare(key, o.key);
            return c != 0 ? c : Long.compare(id, o.id);
        }
    }

    /** The sampled rows of one input partition, keyed by their place in the sample (internal rows are read at once). */
    private static final class SampledRows implements Iterator<Tuple2<RankKey, Example>> {
        private final Iterator<InternalRow> rows;
        private final long seed;
        private final RankKey[] starts;
        private final RankKey last;
        private Tuple2<RankKey, Example> next;

        SampledRows(Iterator<InternalRow> rows, long seed, RankKey[] starts, RankKey last) {
            this.rows = rows;
            this.seed = seed;
            this.starts = starts;
            this.last = last;
        }

        @Override
        public boolean hasNext() {
            while (next == null && rows.hasNext()) {
                InternalRow r = rows.next();
                if (r.isNullAt(0) || r.isNullAt(1) || r.isNullAt(2)) {
                    continue;
                }
                long id = r.getLong(0);
                RankKey k = new RankKey(RankKey.key(id, seed), id, 0);
                if (k.compareTo(last) <= 0) {
                    // The shard whose first key is the greatest at or below k.
                    int lo = 0;
                    int hi = starts.length - 1;
                    while (lo < hi) {
                        int mid = (lo + hi + 1) >>> 1;
                        if (starts[mid].compareTo(k) <= 0) {
                            lo = mid;
                        } else {
                            hi = mid - 1;
                        }
                    }
                    next = new Tuple2<>(new RankKey(k.key(), id, starts[lo].shard()),
                            new Example(id, r.getArray(1).toFloatArray(), r.getInt(2)));
                }
            }
            return next != null;
        }

        @Override
        public Tuple2<RankKey, Example> next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            Tuple2<RankKey, Example> t = next;
            next = null;
            return t;
        }
    }

    /** A sample row goes to the shard of its key. */
    static final class ShardPartitioner extends Partitioner {
        private static final long serialVersionUID = 2L;
        private final int shards;

        ShardPartitioner(int shards) {
            this.shards = shards;
        }

        @Override
        public int numPartitions() {
            return shards;
        }

        @Override
        public int getPartition(Object key) {
            return ((RankKey) key).shard();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ShardPartitioner p && p.shards == shards;
        }

        @Override
        public int hashCode() {
            return shards;
        }
    }

    /** What the pass computes, and in which precision. */
    public record Settings(int width, int batchSize, Set<Statistic> statistics, int gradientBatchSize,
                           long maxGramBytes, Precision precision) implements java.io.Serializable {
        public Settings {
            statistics = Set.copyOf(statistics);
        }

        /** In double precision: statistics independent of the batching to ~1e-15 (what tests compare). */
        public Settings(int width, int batchSize, Set<Statistic> statistics, int gradientBatchSize, long maxGramBytes) {
            this(width, batchSize, statistics, gradientBatchSize, maxGramBytes, Precision.DOUBLE);
        }
    }

    /** Runs the pass; {@code teacher} is ModelSerializer bytes, broadcast to the executors. */
    public static CalibrationStatistics run(SparkSession spark, JavaRDD<Example> sample, byte[] teacher,
                                           Settings settings) {
        return run(spark, sample, teacher, settings, ModelTime.register(spark, "pare calibrate"));
    }

    /** As above, adding the tasks' time in the teacher's passes and the statistics to {@code modelTime}. */
    public static CalibrationStatistics run(SparkSession spark, JavaRDD<Example> sample, byte[] teacher,
                                           Settings settings, ModelTime modelTime) {
        return run(spark, sample, teacher, Networks.read(teacher, "teacher", false), settings, modelTime);
    }

    /**
     * As above, with {@code local} the network of {@code teacher}'s bytes that the driver has read already (a
     * stage's teacher, read once per command: 57-103 ms for LeNet-5 in a warm JVM). It is only read here.
     */
    public static CalibrationStatistics run(SparkSession spark, JavaRDD<Example> sample, byte[] teacher,
                                           MultiLayerNetwork local, Settings settings, ModelTime modelTime) {
        // Checked on the driver first, so a too-large XᵀX or a bad network fails before any task runs.
        CalibrationStatistics.emptyFor(local, settings.statistics(), settings.maxGramBytes());
        if (settings.statistics().contains(Statistic.GRADIENTS)) {
            CalibrationStatistics.checkGradientBatch(local, settings.gradientBatchSize());
        }
        final int classes = (int) Networks.outputSize(local);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> model = jsc.broadcast(teacher);
        jsc.setJobDescription(JOB_DESCRIPTION);
        try {
            // Locals only: the closure must not capture this job or a network.
            final Settings s = settings;
            JavaRDD<CalibrationStatistics> parts = sample.mapPartitions(rows -> {
                MultiLayerNetwork net = ExecutorModels.get(model, s.precision().dataType());
                CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, s.statistics(), s.maxGramBytes());
                ForwardPass.Buffers buffers = ExecutorModels.buffers(model, s.precision().dataType());
                // One array for the task's batches: add() copies a batch's features into the buffers first.
                float[] features = new float[0];
                while (rows.hasNext()) {
                    ExampleArrays batch = take(rows, s.batchSize(), s.width(), features);
                    features = batch.features();
                    long start = System.nanoTime();
                    add(stats, net, batch, s, classes, buffers);
                    modelTime.addSince(start);
                }
                return Collections.singletonList(stats).iterator();
            });
            if (!settings.statistics().contains(Statistic.GRAM)) {
                // Parts of a few MB at most: one job collects them all, in partition order.
                return mergeInOrder(parts.collect().iterator());
            }
            parts = parts.persist(StorageLevel.MEMORY_AND_DISK());
            try {
                // With XᵀX a part can be large: all partitions are computed in parallel by count(), then
                // toLocalIterator() fetches the stored results one partition at a time, in partition order,
                // so the driver holds the running merge and one part, never all parts.
                parts.count();
                return mergeInOrder(parts.toLocalIterator());
            } finally {
                parts.unpersist(false);
            }
        } finally {
            jsc.setJobDescription(null);
            model.destroy();
        }
    }

    private static CalibrationStatistics mergeInOrder(Iterator<CalibrationStatistics> it) {
        if (!it.hasNext()) {
            throw new IllegalArgumentException("the calibration sample has no partitions (no rows)");
        }
        CalibrationStatistics total = it.next().copy();
        while (it.hasNext()) {
            total.merge(it.next());
        }
        return total;
    }

    /**
     * Adds one batch to a task's statistics: what every task does per batch, with {@code net} in
     * the settings' precision; public so that benchmarks can time the same work without Spark.
     */
    public static void add(CalibrationStatistics stats, MultiLayerNetwork net, ExampleArrays batch, Settings settings,
                           int classes, ForwardPass.Buffers buffers) {
        DataType type = settings.precision().dataType();
        INDArray x = buffers.features(batch).castTo(type);
        INDArray y = settings.statistics().contains(Statistic.GRADIENTS) ? oneHot(batch.labels(), classes, type) : null;
        stats.add(net, x, y, settings.gradientBatchSize(), buffers);
    }

    private static INDArray oneHot(int[] labels, int classes, DataType type) {
        double[] y = new double[labels.length * classes];
        for (int r = 0; r < labels.length; r++) {
            y[r * classes + labels[r]] = 1;
        }
        return Nd4j.create(y, new long[] {labels.length, classes}, 'c').castTo(type);
    }
}
