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
import java.util.Collections;
import java.util.Iterator;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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

    private CalibrationJob() {}

    /**
     * The calibration sample: the {@code samples} rows with the smallest
     * {@code xxhash64(id, derived seed)} (ties by id), range-partitioned on that key into
     * {@code shards} partitions, each sorted by it. Independent of the input's own partitioning.
     */
    public static Dataset<Row> sample(Dataset<Row> train, int samples, int shards, long seed) {
        long s = Seeds.derive(seed, "calibration-sample", 0);
        return train
                .withColumn(SAMPLE_KEY, xxhash64(col(ExampleTable.ID), lit(s)))
                .orderBy(col(SAMPLE_KEY), col(ExampleTable.ID))
                .limit(samples)
                .repartitionByRange(shards, col(SAMPLE_KEY), col(ExampleTable.ID))
                .sortWithinPartitions(col(SAMPLE_KEY), col(ExampleTable.ID))
                .select(ExampleTable.ID, ExampleTable.FEATURES, ExampleTable.LABEL);
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
        try {
            // Locals only: the closure must not capture this job or a network.
            final Settings s = settings;
            JavaRDD<CalibrationStatistics> parts = sample.javaRDD().mapPartitions(rows -> {
                MultiLayerNetwork net = ExecutorModels.get(model, DataType.DOUBLE);
                CalibrationStatistics stats = CalibrationStatistics.emptyFor(net, s.statistics(), s.maxGramBytes());
                while (rows.hasNext()) {
                    add(stats, net, Rows.take(rows, s.batchSize(), s.width()), s, classes);
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
