package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.datapruning.ExampleScores;
import dev.pare.common.datapruning.ScoreKind;
import dev.pare.common.model.ForwardPass;
import dev.pare.jobs.io.PartitionChecks;
import java.util.Iterator;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Scores every training example with the teacher on the executors: logits, cross-entropy loss,
 * EL2N, entropy, margin and the last-layer GraNd norm ({@link ExampleScores}), one output row per input row (streamed batch by batch: executor memory is bounded by the
 * batch size, not the partition size). The batches are cut from each Parquet row group
 * ({@link CanonicalBatches}), so the scores' bits do not depend on how the scan was split.
 */
public final class ScoreJob {
    public static final String LOSS = ScoreKind.LOSS.configName();
    public static final String EL2N = ScoreKind.EL2N.configName();
    public static final String ENTROPY = ScoreKind.ENTROPY.configName();
    public static final String MARGIN = ScoreKind.MARGIN.configName();
    public static final String GRAND = ScoreKind.GRAND.configName();
    public static final String LOGITS = "teacher_logits";

    /** Output schema of {@code example-scores}. */
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false)
            .add(LOSS, DataTypes.DoubleType, false)
            .add(EL2N, DataTypes.DoubleType, false)
            .add(ENTROPY, DataTypes.DoubleType, false)
            .add(MARGIN, DataTypes.DoubleType, false)
            .add(GRAND, DataTypes.DoubleType, false)
            .add(LOGITS, DataTypes.createArrayType(DataTypes.FloatType, false), false);

    private ScoreJob() {}

    /**
     * The scores of every row of {@code examples}, a Parquet table as {@code ExampleTable.read} returns
     * it (its batches need Spark's {@code _metadata} columns); the broadcast is released by the caller
     * after writing.
     */
    public static Dataset<Row> scores(SparkSession spark, Dataset<Row> examples, Broadcast<byte[]> teacher, int width,
                                      int numClasses, int batchSize) {
        return scores(spark, examples, teacher, width, numClasses, batchSize, ModelTime.register(spark, "pare score"));
    }

    /** As above, adding the tasks' time in the forward passes and scores to {@code modelTime}. */
    public static Dataset<Row> scores(SparkSession spark, Dataset<Row> examples, Broadcast<byte[]> teacher, int width,
                                      int numClasses, int batchSize, ModelTime modelTime) {
        JavaRDD<InternalRow> rows = scoreBatches(spark, examples, teacher, width, numClasses, batchSize, modelTime, null)
                .flatMap(b -> IntStream.range(0, b.size()).mapToObj(b::row).iterator());
        // internalCreateDataFrame is private[sql] in Scala, public to Java; its rows must match SCHEMA.
        return spark.internalCreateDataFrame(rows.rdd(), SCHEMA, false);
    }

    /**
     * The scores of {@link #scores}, one {@link ScoreBatch} per batch of the model, for writers that take
     * columns ({@code dev.pare.jobs.io.ParquetRows#writeBatches}).
     *
     * @param checks null, or the checks every input row goes through on its way to the model ({@link
     *     PartitionChecks#checked}: rows the model cannot take are left out), merged once the rows are written
     */
    public static JavaRDD<ScoreBatch> scoreBatches(SparkSession spark, Dataset<Row> examples,
                                                   Broadcast<byte[]> teacher, int width, int numClasses,
                                                   int batchSize, ModelTime modelTime, PartitionChecks checks) {
        final int w = width;
        final int c = numClasses;
        final int bs = batchSize;
        // The footers CanonicalBatches reads, with the Hadoop settings of file scans (a broadcast).
        final CanonicalBatches.Footers footers = new CanonicalBatches.Footers(spark);
        JavaRDD<InternalRow> in = Rows.internalPlaced(examples, width);
        return in.mapPartitions(rows -> new Iterator<ScoreBatch>() {
            private final MultiLayerNetwork net = ExecutorModels.get(teacher);
            private final ForwardPass.Buffers buffers = ExecutorModels.buffers(teacher);
            private final CanonicalBatches batches = new CanonicalBatches(checks == null ? rows : checks.checked(rows),
                    bs, w, footers);

            @Override
            public boolean hasNext() {
                return batches.hasNext();
            }

            @Override
            public ScoreBatch next() {
                ExampleArrays batch = batches.next();
                long start = System.nanoTime();
                ScoreBatch scored = score(net, batch, c, buffers);
                modelTime.addSince(start);
                return scored;
            }
        });
    }

    /**
     * The scores of one batch: one forward pass of the teacher, then the per-example scores.
     * What every task does per batch; public so that benchmarks can time the same work without Spark.
     *
     * @param buffers a task's arrays, reused batch after batch (null: fresh ones)
     */
    public static ScoreBatch score(MultiLayerNetwork net, ExampleArrays batch, int c, ForwardPass.Buffers buffers) {
        INDArray x = buffers == null ? batch.featureRange(0, batch.size()) : buffers.features(batch);
        ForwardPass pass = ForwardPass.toLogits(net, x, buffers);
        int n = batch.size();
        // New arrays: the pass's own are the task's buffers, which the next batch overwrites.
        float[] logits = ForwardPass.rowMajor(pass.logits());
        double[] hSq = rowSquareNorms(pass.layerInputs().get(pass.layerInputs().size() - 1));
        ScoreBatch out = new ScoreBatch(batch.ids(), batch.labels(), new double[n], new double[n],
                new double[n], new double[n], new double[n], logits, c);
        for (int r = 0; r < n; r++) {
            ExampleScores s = ExampleScores.of(logits, r * c, c, out.labels()[r], hSq[r]);
            out.loss()[r] = s.loss();
            out.el2n()[r] = s.el2n();
            out.entropy()[r] = s.entropy();
            out.margin()[r] = s.margin();
            out.grand()[r] = s.grand();
        }
        return out;
    }

    /**
     * {@code Σ_k h_rk²} per row r of {@code h} {@code [n, H]}, in double and in k order, read column by
     * column ({@link ForwardPass#columns}: the forward pass's own arrays are 'f'). A row-major copy of
     * the penultimate activations took 7% of the scoring; a column-major copy of all of them was a
     * quarter of a LeNet-5 scoring task's allocations (110 of 408 MB in an allocation profile).
     */
    static double[] rowSquareNorms(INDArray h) {
        int rows = (int) h.rows();
        double[] sums = new double[rows];
        float[] column = new float[rows];
        ForwardPass.columns(h, column, k -> {
            for (int r = 0; r < rows; r++) {
                double x = column[r];
                sums[r] += x * x;
            }
        });
        return sums;
    }

    /** Broadcasts model bytes for {@link #scores}. */
    public static Broadcast<byte[]> broadcast(SparkSession spark, byte[] model) {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(model);
    }
}
