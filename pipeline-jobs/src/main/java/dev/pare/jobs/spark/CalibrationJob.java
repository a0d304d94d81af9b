package dev.pare.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.model.Networks;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.ExampleTable;
import java.io.Serializable;
import java.util.Collections;
import java.util.Iterator;
import java.util.Set;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;

/**
 * The distributed calibration pass: a seeded sample of the training set, split into shards, each
 * shard run through the teacher on an executor to accumulate per-layer statistics, the partial
 * statistics merged on the driver in partition order (so a given input, seed and shard count
 * gives bit-identical statistics).
 *
 * <p>The teacher runs in double precision here: float GEMM results change in their last bits with
 * the batch composition, so float statistics would depend on how rows were sharded and batched;
 * in double they agree with any other batching to ~1e-15 relative. Calibration samples are small
 * (thousands of rows), so the cost is negligible next to scoring the training set.
 */
public final class CalibrationJob {
    private static final String SAMPLE_KEY = "_pare_sample_key";
    /** The description of every Spark job of {@link #run} (Spark UI, REST API, event log). */
    public static final String JOB_DESCRIPTION = "pare calibrate: teacher statistics per shard";

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
     * @param samples the number of rows to draw; when the input has fewer, the last shards are short
     *     or empty, so callers pass {@code min(samples, rows)}
     */
    public static Dataset<Row> sample(Dataset<Row> train, int samples, int shards, long seed) {
        long s = Seeds.derive(seed, "calibration-sample", 0);
        Dataset<Row> chosen = train
                .withColumn(SAMPLE_KEY, xxhash64(col(ExampleTable.ID), lit(s)))
                .orderBy(col(SAMPLE_KEY), col(ExampleTable.ID))
                .limit(samples)
                .orderBy(col(SAMPLE_KEY), col(ExampleTable.ID))
                .select(ExampleTable.ID, ExampleTable.FEATURES, ExampleTable.LABEL);
        // zipWithIndex numbers the globally sorted rows; each internal row is read at once (rows are reused).
        JavaRDD<Row> sharded = Rows.internal(chosen).zipWithIndex()
                .mapToPair(t -> new Tuple2<>(t._2(), Example.of(t._1())))
                .repartitionAndSortWithinPartitions(new ShardPartitioner(samples, shards))
                .map(t -> t._2().toRow());
        return train.sparkSession().createDataFrame(sharded, chosen.schema());
    }

    /** A sampled row in the shuffle: a primitive array instead of a Row's boxed floats. */
    private record Example(long id, float[] features, int label) implements Serializable {
        static Example of(InternalRow r) {
            return new Example(r.getLong(0), r.getArray(1).toFloatArray(), r.getInt(2));
        }

        Row toRow() {
            return RowFactory.create(id, features, label);
        }
    }

    /** Rank {@code r} of {@code n} rows goes to shard {@code floor(r·shards/n)}: contiguous, sizes within one. */
    static final class ShardPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final long rows;
        private final int shards;

        ShardPartitioner(long rows, int shards) {
            if (rows < 1 || shards < 1) {
                throw new IllegalArgumentException("rows and shards must be positive, were " + rows + ", " + shards);
            }
            this.rows = rows;
            this.shards = shards;
        }

        @Override
        public int numPartitions() {
            return shards;
        }

        @Override
        public int getPartition(Object rank) {
            // rank < rows <= Integer.MAX_VALUE (the sample is a limit(samples)), so rank·shards fits a long.
            return (int) ((Long) rank * shards / rows);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ShardPartitioner p && p.rows == rows && p.shards == shards;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(rows) * 31 + shards;
        }
    }

    /** What the pass computes. */
    public record Settings(int width, int batchSize, Set<Statistic> statistics, int gradientBatchSize,
                           long maxGramBytes) implements java.io.Serializable {
        public Settings {
            statistics = Set.copyOf(statistics);
        }
    }

    /** Runs the pass; {@code teacher} is ModelSerializer bytes, broadcast to the executors. */
    public static CalibrationStatistics run(SparkSession spark, Dataset<Row> sample, byte[] teacher, Settings settings) {
        // Checked on the driver first, so a too-large XᵀX or a bad network fails before any task runs.
        MultiLayerNetwork local = Networks.read(teacher, "teacher", false);
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
            JavaRDD<CalibrationStatistics> parts = Rows.internal(sample).mapPartitions(rows -> {
                MultiLayerNetwork net = ExecutorModels.get(model, DataType.DOUBLE);
                CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, s.statistics(), s.maxGramBytes());
                while (rows.hasNext()) {
                    add(stats, net, Rows.takeInternal(rows, s.batchSize(), s.width()), s, classes);
                }
                return Collections.singletonList(stats).iterator();
            }).persist(StorageLevel.MEMORY_AND_DISK());
            try {
                // All partitions are computed in parallel by count(); toLocalIterator() then fetches the
                // stored results one partition at a time, in partition order, so the driver holds the
                // running merge and one part, never all parts (they can be large with XᵀX).
                parts.count();
                Iterator<CalibrationStatistics> it = parts.toLocalIterator();
                if (!it.hasNext()) {
                    throw new IllegalArgumentException("the calibration sample has no partitions (no rows)");
                }
                CalibrationStatistics total = it.next().copy();
                while (it.hasNext()) {
                    total.merge(it.next());
                }
                return total;
            } finally {
                parts.unpersist(false);
            }
        } finally {
            jsc.setJobDescription(null);
            model.destroy();
        }
    }

    /**
     * Adds one batch to a task's statistics: what every task does per batch, with {@code net} in
     * double precision; public so that benchmarks can time the same work without Spark.
     */
    public static void add(CalibrationStatistics stats, MultiLayerNetwork net, ExampleArrays batch, Settings settings,
                           int classes) {
        INDArray x = batch.featureRange(0, batch.size()).castTo(DataType.DOUBLE);
        INDArray y = settings.statistics().contains(Statistic.GRADIENTS) ? oneHot(batch.labels(), classes) : null;
        stats.add(net, x, y, settings.gradientBatchSize());
    }

    private static INDArray oneHot(int[] labels, int classes) {
        double[] y = new double[labels.length * classes];
        for (int r = 0; r < labels.length; r++) {
            y[r * classes + labels[r]] = 1;
        }
        return Nd4j.create(y, new long[] {labels.length, classes}, 'c');
    }
}
