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

    /** One model's metrics ({@link #run(SparkSession, Dataset, List, byte[], int, int, int)} of one model). */
    public static ClassificationMetrics run(SparkSession spark, Dataset<Row> examples, byte[] model, byte[] teacher,
                                            int width, int numClasses, int batchSize) {
        return run(spark, examples, List.of(model), teacher, width, numClasses, batchSize).get(0);
    }

    /**
     * The metrics of each of {@code models}, in their order, from one pass over {@code examples} (one per
     * {@value #MODELS_PER_PASS} models): each batch goes through the teacher once (its predictions are the agreement's reference) and through
     * every other model. A model whose bytes are the teacher's is the teacher: its logits are the
     * reference's. Each model's metrics are those one pass per model gave, bit for bit (the same batches,
     * the same merge order).
     */
    public static List<ClassificationMetrics> run(SparkSession spark, Dataset<Row> examples, List<byte[]> models,
                                                  byte[] teacher, int width, int numClasses, int batchSize) {
        // A pass needs the teacher and its models at once: no more than an executor keeps (ExecutorModels.KEPT).
        List<ClassificationMetrics> out = new ArrayList<>();
        for (int from = 0; from < models.size(); from += MODELS_PER_PASS) {
            out.addAll(pass(spark, examples, models.subList(from, Math.min(models.size(), from + MODELS_PER_PASS)),
                    teacher, width, numClasses, batchSize));
        }
        return out;
    }

    /** Models evaluated by one pass, besides the teacher. */
    static final int MODELS_PER_PASS = ExecutorModels.KEPT - 1;

    private static List<ClassificationMetrics> pass(SparkSession spark, Dataset<Row> examples, List<byte[]> models,
                                                    byte[] teacher, int width, int numClasses, int batchSize) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> t = jsc.broadcast(teacher);
        List<Broadcast<byte[]>> broadcasts = new ArrayList<>();
        for (byte[] model : models) {
            // null: the teacher itself.
            broadcasts.add(java.util.Arrays.equals(model, teacher) ? null : jsc.broadcast(model));
        }
        try {
            final int w = width;
            final int c = numClasses;
            final int bs = batchSize;
            final int count = models.size();
            final List<Broadcast<byte[]>> ms = broadcasts;
            final CanonicalBatches.Footers footers = new CanonicalBatches.Footers(spark);
            List<Tuple2<CanonicalBatches.Place, ClassificationMetrics[]>> parts = Rows.internalPlaced(examples, width)
                    .mapPartitions(rows -> {
                        MultiLayerNetwork ref = ExecutorModels.get(t);
                        ForwardPass.Buffers refBuffers = new ForwardPass.Buffers();
                        MultiLayerNetwork[] nets = new MultiLayerNetwork[count];
                        ForwardPass.Buffers[] buffers = new ForwardPass.Buffers[count];
                        for (int i = 0; i < count; i++) {
                            nets[i] = ms.get(i) == null ? null : ExecutorModels.get(ms.get(i));
                            buffers[i] = new ForwardPass.Buffers();
                        }
                        CanonicalBatches batches = new CanonicalBatches(rows, bs, w, footers);
                        List<Tuple2<CanonicalBatches.Place, ClassificationMetrics[]>> out = new ArrayList<>();
                        while (batches.hasNext()) {
                            ExampleArrays batch = batches.next();
                            var x = refBuffers.features(batch);
                            float[] refLogits = ForwardPass.logitsRowMajor(ref, x, refBuffers);
                            int[] refPred = new int[batch.size()];
                            for (int r = 0; r < refPred.length; r++) {
                                refPred[r] = ClassificationMetrics.argmax(refLogits, r * c, c);
                            }
                            ClassificationMetrics[] metrics = new ClassificationMetrics[count];
                            for (int i = 0; i < count; i++) {
                                float[] logits = nets[i] == null ? refLogits
                                        : ForwardPass.logitsRowMajor(nets[i], x, buffers[i]);
                                metrics[i] = new ClassificationMetrics(c);
                                metrics[i].add(logits, batch.labels(), refPred);
                            }
                            out.add(new Tuple2<>(batches.lastPlace(), metrics));
                        }
                        return out.iterator();
                    }).collect();
            List<Tuple2<CanonicalBatches.Place, ClassificationMetrics[]>> sorted = new ArrayList<>(parts);
            sorted.sort(Comparator.comparing(Tuple2::_1));
            List<ClassificationMetrics> totals = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                // The batches' metrics merged one after the other, ordered by file and chunk.
                ClassificationMetrics total = new ClassificationMetrics(numClasses);
                for (Tuple2<CanonicalBatches.Place, ClassificationMetrics[]> p : sorted) {
                    total.merge(p._2()[i]);
                }
                totals.add(total);
            }
            return totals;
        } finally {
            t.destroy();
            broadcasts.stream().filter(java.util.Objects::nonNull).forEach(Broadcast::destroy);
        }
    }
}
