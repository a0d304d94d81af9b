package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.model.ForwardPass;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import scala.Tuple2;

/**
 * Evaluates a model on a labelled split on the executors: accuracy, mean loss, agreement with the
 * teacher (share of equal argmax) and per-class accuracy.
 *
 * <p>The metrics do not depend on how the scan was split: batches are cut from Parquet row groups
 * ({@link CanonicalBatches}, as {@code score-data} cuts them), each batch's metrics are computed
 * apart, and the driver merges them ordered by file and chunk. (Cut from each task's rows and merged
 * per task, the mean loss differed in its last bits between cluster sizes.) {@code examples} must be
 * a file scan, as {@code ExampleTable.read} returns: the rows' files and places come from Spark's
 * {@code _metadata} columns.
 */
public final class EvaluateJob {
    private EvaluateJob() {}

    public static ClassificationMetrics run(SparkSession spark, Dataset<Row> examples, byte[] model, byte[] teacher,
                                            int width, int numClasses, int batchSize) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> m = jsc.broadcast(model);
        // The teacher evaluated against itself (no teacher broadcast): its own predictions are the reference.
        Broadcast<byte[]> t = java.util.Arrays.equals(model, teacher) ? null : jsc.broadcast(teacher);
        try {
            final int w = width;
            final int c = numClasses;
            final int bs = batchSize;
            final CanonicalBatches.Footers footers = new CanonicalBatches.Footers(spark);
            List<Tuple2<CanonicalBatches.Place, ClassificationMetrics>> parts = Rows.internalPlaced(examples, width)
                    .mapPartitions(rows -> {
                        MultiLayerNetwork net = ExecutorModels.get(m);
                        MultiLayerNetwork ref = t == null ? null : ExecutorModels.get(t);
                        ForwardPass.Buffers netBuffers = new ForwardPass.Buffers();
                        ForwardPass.Buffers refBuffers = new ForwardPass.Buffers();
                        CanonicalBatches batches = new CanonicalBatches(rows, bs, w, footers);
                        List<Tuple2<CanonicalBatches.Place, ClassificationMetrics>> out = new ArrayList<>();
                        while (batches.hasNext()) {
                            ExampleArrays batch = batches.next();
                            var x = netBuffers.features(batch);
                            float[] logits = ForwardPass.logitsRowMajor(net, x, netBuffers);
                            float[] refLogits = ref == null ? logits : ForwardPass.logitsRowMajor(ref, x, refBuffers);
                            int[] refPred = new int[batch.size()];
                            for (int r = 0; r < refPred.length; r++) {
                                refPred[r] = ClassificationMetrics.argmax(refLogits, r * c, c);
                            }
                            ClassificationMetrics metrics = new ClassificationMetrics(c);
                            metrics.add(logits, batch.labels(), refPred);
                            out.add(new Tuple2<>(batches.lastPlace(), metrics));
                        }
                        return out.iterator();
                    }).collect();
            return mergeInPlaceOrder(parts, c);
        } finally {
            m.destroy();
            if (t != null) {
                t.destroy();
            }
        }
    }

    /** The batches' metrics merged one after the other, ordered by file and chunk. */
    private static ClassificationMetrics mergeInPlaceOrder(List<Tuple2<CanonicalBatches.Place, ClassificationMetrics>> parts,
                                                   int numClasses) {
        List<Tuple2<CanonicalBatches.Place, ClassificationMetrics>> sorted = new ArrayList<>(parts);
        sorted.sort(Comparator.comparing(Tuple2::_1));
        ClassificationMetrics total = new ClassificationMetrics(numClasses);
        for (Tuple2<CanonicalBatches.Place, ClassificationMetrics> p : sorted) {
            total.merge(p._2());
        }
        return total;
    }
}
