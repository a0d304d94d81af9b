package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.model.ForwardPass;
import java.util.Collections;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Evaluates a model on a labelled split on the executors: accuracy, mean loss, agreement with the
 * teacher (share of equal argmax) and per-class accuracy, merged in partition order.
 */
public final class EvaluateJob {
    private EvaluateJob() {}

    public static ClassificationMetrics run(SparkSession spark, Dataset<Row> examples, byte[] model, byte[] teacher,
                                            int width, int numClasses, int batchSize) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> m = jsc.broadcast(model);
        Broadcast<byte[]> t = jsc.broadcast(teacher);
        try {
            final int w = width;
            final int c = numClasses;
            final int bs = batchSize;
            List<ClassificationMetrics> parts = Rows.internal(examples, width).mapPartitions(rows -> {
                MultiLayerNetwork net = ExecutorModels.get(m);
                MultiLayerNetwork ref = ExecutorModels.get(t);
                ClassificationMetrics metrics = new ClassificationMetrics(c);
                ForwardPass.Buffers netBuffers = new ForwardPass.Buffers();
                ForwardPass.Buffers refBuffers = new ForwardPass.Buffers();
                while (rows.hasNext()) {
                    ExampleArrays batch = Rows.takeInternal(rows, bs, w);
                    var x = netBuffers.features(batch);
                    float[] logits = ForwardPass.logitsRowMajor(net, x, netBuffers);
                    float[] refLogits = ForwardPass.logitsRowMajor(ref, x, refBuffers);
                    int[] refPred = new int[batch.size()];
                    for (int r = 0; r < refPred.length; r++) {
                        refPred[r] = ClassificationMetrics.argmax(refLogits, r * c, c);
                    }
                    metrics.add(logits, batch.labels(), refPred);
                }
                return Collections.singletonList(metrics).iterator();
            }).collect();
            ClassificationMetrics total = new ClassificationMetrics(c);
            parts.forEach(total::merge);
            return total;
        } finally {
            m.destroy();
            t.destroy();
        }
    }
}
