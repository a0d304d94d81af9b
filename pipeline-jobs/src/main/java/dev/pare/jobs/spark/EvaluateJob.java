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

    /** One model's metrics ({@link #run(SparkSession, Dataset, List, byte[], int, int, int, int)} of one model). */
    public static ClassificationMetrics run(SparkSession spark, Dataset<Row> examples, byte[] model, byte[] teacher,
                                            int width, int numClasses, int batchSize) {
        return run(spark, examples, List.of(model), teacher, width, numClasses, batchSize, 0).metrics().get(0);
    }

    /**
     * What {@link #run} found: each model's metrics, in the models' order, and the {@code firstRows} rows of
     * smallest id (fewer when the split has fewer), their ids and features in id order.
     */
    public record Evaluation(List<ClassificationMetrics> metrics, long[] firstIds, float[] firstFeatures) {}

    /**
     * The metrics of each of {@code models}, in their order, from one pass over {@code examples} (one per
     * {@value #MODELS_PER_PASS} models): each batch goes through the teacher once (its predictions are the
     * agreement's reference) and through every other model. A model whose bytes are the teacher's is the
     * teacher: its logits are the reference's. Each model's metrics are those one pass per model gave, bit for
     * bit (the same batches, the same merge order). The first pass also keeps the {@code firstRows} rows of
     * smallest id (each task at most that many, as Spark's {@code orderBy(id).limit(n)} does), so that the
     * evaluate stage's latency batch needs no job of its own.
     */
    public static Evaluation run(SparkSession spark, Dataset<Row> examples, List<byte[]> models, byte[] teacher,
                                 int width, int numClasses, int batchSize, int firstRows) {
        // A pass needs the teacher and its models at once: no more than an executor keeps (ExecutorModels.KEPT).
        List<ClassificationMetrics> out = new ArrayList<>();
        SmallestIds first = new SmallestIds(0, width);
        for (int from = 0; from < models.size(); from += MODELS_PER_PASS) {
            SmallestIds wanted = new SmallestIds(from == 0 ? firstRows : 0, width);
            out.addAll(pass(spark, examples, models.subList(from, Math.min(models.size(), from + MODELS_PER_PASS)),
                    teacher, width, numClasses, batchSize, wanted));
            if (from == 0) {
                first = wanted;
            }
        }
        return new Evaluation(out, first.ids(), first.features());
    }

    /** Models evaluated by one pass, besides the teacher. */
    static final int MODELS_PER_PASS = ExecutorModels.KEPT - 1;

    /** What one task of a pass returns: each batch's metrics by place, and the task's rows of smallest id. */
    private record Part(List<Tuple2<CanonicalBatches.Place, ClassificationMetrics[]>> batches, SmallestIds first)
            implements java.io.Serializable {}

    /** One pass over {@code examples} for {@code models}; {@code first} (empty, of its limit) gets the rows of smallest id. */
    private static List<ClassificationMetrics> pass(SparkSession spark, Dataset<Row> examples, List<byte[]> models,
                                                    byte[] teacher, int width, int numClasses, int batchSize,
                                                    SmallestIds first) {
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
            final int keep = first.limit();
            final List<Broadcast<byte[]>> ms = broadcasts;
            final CanonicalBatches.Footers footers = new CanonicalBatches.Footers(spark);
            List<Part> parts = Rows.internalPlaced(examples, width)
                    .mapPartitions(rows -> {
                        MultiLayerNetwork ref = ExecutorModels.get(t);
                        ForwardPass.Buffers refBuffers = ExecutorModels.buffers(t);
                        MultiLayerNetwork[] nets = new MultiLayerNetwork[count];
                        ForwardPass.Buffers[] buffers = new ForwardPass.Buffers[count];
                        for (int i = 0; i < count; i++) {
                            nets[i] = ms.get(i) == null ? null : ExecutorModels.get(ms.get(i));
                            buffers[i] = ms.get(i) == null ? null : ExecutorModels.buffers(ms.get(i));
                        }
                        CanonicalBatches batches = new CanonicalBatches(rows, bs, w, footers);
                        List<Tuple2<CanonicalBatches.Place, ClassificationMetrics[]>> out = new ArrayList<>();
                        SmallestIds smallest = new SmallestIds(keep, w);
                        while (batches.hasNext()) {
                            ExampleArrays batch = batches.next();
                            for (int r = 0; r < batch.size(); r++) {
                                smallest.offer(batch.ids()[r], batch.features(), r * w);
                            }
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
                        return List.of(new Part(out, smallest)).iterator();
                    }).collect();
            List<Tuple2<CanonicalBatches.Place, ClassificationMetrics[]>> sorted = new ArrayList<>();
            for (Part part : parts) {
                sorted.addAll(part.batches());
                long[] ids = part.first().ids();
                float[] features = part.first().features();
                for (int r = 0; r < ids.length; r++) {
                    first.offer(ids[r], features, r * width);
                }
            }
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

    /**
     * The {@code limit} rows of smallest id offered so far, their features copied: a max-heap on id over
     * {@code limit} slots, so a task holds {@code limit × width} floats whatever its size.
     */
    static final class SmallestIds implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final int limit;
        private final int width;
        private final long[] ids;
        private final float[] features;
        /** Slots in heap order, the largest id first. */
        private final int[] heap;
        private int size;

        SmallestIds(int limit, int width) {
            this.limit = limit;
            this.width = width;
            this.ids = new long[limit];
            this.features = new float[limit * width];
            this.heap = new int[limit];
        }

        int limit() {
            return limit;
        }

        /** Offers the row {@code id} whose features start at {@code from} in {@code source}. */
        void offer(long id, float[] source, int from) {
            if (size < limit) {
                int slot = size;
                ids[slot] = id;
                System.arraycopy(source, from, features, slot * width, width);
                heap[size] = slot;
                siftUp(size);
                size++;
            } else if (limit > 0 && id < ids[heap[0]]) {
                // The largest id held makes room.
                int slot = heap[0];
                ids[slot] = id;
                System.arraycopy(source, from, features, slot * width, width);
                siftDown(0);
            }
        }

        private void siftUp(int i) {
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (ids[heap[parent]] >= ids[heap[i]]) {
                    return;
                }
                swap(i, parent);
                i = parent;
            }
        }

        private void siftDown(int i) {
            while (true) {
                int largest = i;
                for (int child = 2 * i + 1; child <= 2 * i + 2 && child < size; child++) {
                    if (ids[heap[child]] > ids[heap[largest]]) {
                        largest = child;
                    }
                }
                if (largest == i) {
                    return;
                }
                swap(i, largest);
                i = largest;
            }
        }

        private void swap(int a, int b) {
            int x = heap[a];
            heap[a] = heap[b];
            heap[b] = x;
        }

        /** The held ids, ascending. */
        long[] ids() {
            long[] out = new long[size];
            int[] order = order();
            for (int i = 0; i < size; i++) {
                out[i] = ids[order[i]];
            }
            return out;
        }

        /** The held rows' features, in id order. */
        float[] features() {
            float[] out = new float[size * width];
            int[] order = order();
            for (int i = 0; i < size; i++) {
                System.arraycopy(features, order[i] * width, out, i * width, width);
            }
            return out;
        }

        private int[] order() {
            return java.util.stream.IntStream.range(0, size).boxed()
                    .sorted(Comparator.comparingLong(slot -> ids[slot])).mapToInt(Integer::intValue).toArray();
        }
    }
}
