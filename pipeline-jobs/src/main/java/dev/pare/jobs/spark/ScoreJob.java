package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.datapruning.ExampleScores;
import dev.pare.common.datapruning.ScoreKind;
import dev.pare.common.model.ForwardPass;
import dev.pare.jobs.io.PartitionChecks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
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
        // internalCreateDataFrame is private[sql] in Scala, public to Java; its rows must match SCHEMA.
        return spark.internalCreateDataFrame(scoreRows(spark, examples, teacher, width, numClasses, batchSize,
                modelTime, null).rdd(), SCHEMA, false);
    }

    /**
     * The rows of {@link #scores} as Spark's internal rows ({@link #SCHEMA}), for writers that take them
     * as they are ({@code dev.pare.jobs.io.ParquetRows}): no boxed {@code Float[]} logits converted back.
     *
     * @param checks null, or the checks every input row goes through on its way to the model ({@link
     *     PartitionChecks#checked}: rows the model cannot take are left out), merged once the rows are written
     */
    public static JavaRDD<InternalRow> scoreRows(SparkSession spark, Dataset<Row> examples, Broadcast<byte[]> teacher,
                                                 int width, int numClasses, int batchSize, ModelTime modelTime,
                                                 PartitionChecks checks) {
        final int w = width;
        final int c = numClasses;
        final int bs = batchSize;
        // The footers CanonicalBatches reads, with the Hadoop settings of file scans (a broadcast).
        final CanonicalBatches.Footers footers = new CanonicalBatches.Footers(spark);
        JavaRDD<InternalRow> in = Rows.internalPlaced(examples, width);
        JavaRDD<InternalRow> out = in.mapPartitions(rows -> new Iterator<InternalRow>() {
            private final MultiLayerNetwork net = ExecutorModels.get(teacher);
            private final ForwardPass.Buffers buffers = ExecutorModels.buffers(teacher);
            private final CanonicalBatches batches = new CanonicalBatches(checks == null ? rows : checks.checked(rows),
                    bs, w, footers);
            private List<InternalRow> buffer = List.of();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < buffer.size()) {
                    return true;
                }
                if (!batches.hasNext()) {
                    return false;
                }
                ExampleArrays batch = batches.next();
                long start = System.nanoTime();
                buffer = score(net, batch, c, buffers);
                modelTime.addSince(start);
                next = 0;
                return true;
            }

            @Override
            public InternalRow next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return buffer.get(next++);
            }
        });
        return out;
    }

    /**
     * The output rows of one batch: one forward pass of the teacher, then the per-example scores.
     * What every task does per batch; public so that benchmarks can time the same work without Spark.
     *
     * @param buffers a task's arrays, reused batch after batch (null: fresh ones)
     */
    public static List<InternalRow> score(MultiLayerNetwork net, ExampleArrays batch, int c,
                                          ForwardPass.Buffers buffers) {
        INDArray x = buffers == null ? batch.featureRange(0, batch.size()) : buffers.features(batch);
        ForwardPass pass = ForwardPass.toLogits(net, x, buffers);
        float[] logits = ForwardPass.rowMajor(pass.logits());
        double[] hSq = rowSquareNorms(pass.layerInputs().get(pass.layerInputs().size() - 1));
        List<InternalRow> result = new ArrayList<>(batch.size());
        for (int r = 0; r < batch.size(); r++) {
            int label = batch.labels()[r];
            ExampleScores s = ExampleScores.of(logits, r * c, c, label, hSq[r]);
            result.add(new GenericInternalRow(new Object[] {batch.ids()[r], label, s.loss(), s.el2n(), s.entropy(),
                s.margin(), s.grand(), UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange(logits, r * c, (r + 1) * c))}));
        }
        return result;
    }

    /**
     * {@code Σ_k h_rk²} per row r of {@code h} {@code [n, H]}, in double and in k order, read column by
     * column from an 'f'-ordered copy (the forward pass's own arrays are 'f'): a row-major copy of
     * the penultimate activations took 7% of the scoring.
     */
    static double[] rowSquareNorms(INDArray h) {
        int rows = (int) h.rows();
        int width = (int) h.columns();
        float[] v = ForwardPass.columnMajor(h);
        double[] sums = new double[rows];
        for (int k = 0; k < width; k++) {
            for (int r = 0, i = k * rows; r < rows; r++, i++) {
                double x = v[i];
                sums[r] += x * x;
            }
        }
        return sums;
    }

    /** Broadcasts model bytes for {@link #scores}. */
    public static Broadcast<byte[]> broadcast(SparkSession spark, byte[] model) {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(model);
    }
}
