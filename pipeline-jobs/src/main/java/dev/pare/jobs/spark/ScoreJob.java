package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.datapruning.ExampleScores;
import dev.pare.common.model.ForwardPass;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Scores every training example with the teacher on the executors: logits, cross-entropy loss and
 * EL2N, one output row per input row (streamed batch by batch: executor memory is bounded by the
 * batch size, not the partition size).
 */
public final class ScoreJob {
    public static final String LOSS = "loss";
    public static final String EL2N = "el2n";
    public static final String LOGITS = "teacher_logits";

    /** Output schema of {@code example-scores}. */
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false)
            .add(LOSS, DataTypes.DoubleType, false)
            .add(EL2N, DataTypes.DoubleType, false)
            .add(LOGITS, DataTypes.createArrayType(DataTypes.FloatType, false), false);

    private ScoreJob() {}

    /** The scores of every row of {@code examples}; the broadcast is released by the caller after writing. */
    public static Dataset<Row> scores(SparkSession spark, Dataset<Row> examples, Broadcast<byte[]> teacher, int width,
                                      int numClasses, int batchSize) {
        final int w = width;
        final int c = numClasses;
        final int bs = batchSize;
        JavaRDD<Row> out = examples.javaRDD().mapPartitions(rows -> new Iterator<Row>() {
            private final MultiLayerNetwork net = ExecutorModels.get(teacher);
            private List<Row> buffer = List.of();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < buffer.size()) {
                    return true;
                }
                if (!rows.hasNext()) {
                    return false;
                }
                ExampleArrays batch = Rows.take(rows, bs, w);
                float[] logits = ForwardPass.logitsRowMajor(net, batch.featureRange(0, batch.size()));
                List<Row> result = new ArrayList<>(batch.size());
                for (int r = 0; r < batch.size(); r++) {
                    int label = batch.labels()[r];
                    ExampleScores s = ExampleScores.of(logits, r * c, c, label);
                    Float[] z = new Float[c];
                    for (int k = 0; k < c; k++) {
                        z[k] = logits[r * c + k];
                    }
                    result.add(RowFactory.create(batch.ids()[r], label, s.loss(), s.el2n(), z));
                }
                buffer = result;
                next = 0;
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return buffer.get(next++);
            }
        });
        return spark.createDataFrame(out, SCHEMA);
    }

    /** Broadcasts model bytes for {@link #scores}. */
    public static Broadcast<byte[]> broadcast(SparkSession spark, byte[] model) {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(model);
    }
}
