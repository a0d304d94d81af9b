package dev.pare.jobs.spark;

import dev.pare.common.distill.KnowledgeDistillationLoss;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a partition of joined rows {@code (id, features, label, teacher logits)} into KD minibatches
 * on the executor, in row order: {@code DataSet}s of {@code batchSize} rows (the partition's last
 * may be smaller) with features {@code [n, width]} and labels {@code [n, 2C]} = one-hot label, then
 * the teacher's logits ({@link KnowledgeDistillationLoss}). Streams: one minibatch in memory at a time.
 */
final class KdMinibatches implements FlatMapFunction<Iterator<Row>, DataSet> {
    private final int batchSize;
    private final int width;
    private final int classes;

    KdMinibatches(int batchSize, int width, int classes) {
        this.batchSize = batchSize;
        this.width = width;
        this.classes = classes;
    }

    @Override
    public Iterator<DataSet> call(Iterator<Row> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public DataSet next() {
                if (!rows.hasNext()) {
                    throw new NoSuchElementException();
                }
                float[] x = new float[batchSize * width];
                float[] y = new float[batchSize * 2 * classes];
                float[] z = new float[classes];
                int n = 0;
                while (n < batchSize && rows.hasNext()) {
                    Row r = rows.next();
                    List<Float> f = r.getList(1);
                    List<Float> logits = r.getList(3);
                    int label = r.getInt(2);
                    if (f.size() != width || logits.size() != classes || label < 0 || label >= classes) {
                        throw new IllegalStateException("example " + r.getLong(0) + ": " + f.size() + " features, "
                                + logits.size() + " teacher logits and label " + label + "; expected " + width
                                + " features, " + classes + " logits and a label in [0, " + classes + ")");
                    }
                    for (int j = 0; j < width; j++) {
                        x[n * width + j] = f.get(j);
                    }
                    for (int k = 0; k < classes; k++) {
                        z[k] = logits.get(k);
                    }
                    KnowledgeDistillationLoss.labelRow(label, z, 0, classes, y, n * 2 * classes);
                    n++;
                }
                if (n < batchSize) {
                    x = java.util.Arrays.copyOf(x, n * width);
                    y = java.util.Arrays.copyOf(y, n * 2 * classes);
                }
                return new DataSet(Nd4j.create(x, new long[] {n, width}, 'c'),
                        Nd4j.create(y, new long[] {n, 2L * classes}, 'c'));
            }
        };
    }
}
