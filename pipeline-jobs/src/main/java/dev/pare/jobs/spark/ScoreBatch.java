package dev.pare.jobs.spark;

import dev.pare.jobs.io.ParquetBatchFormat;
import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;

/**
 * The scores of one batch, as the columns of {@link ScoreJob#SCHEMA}: row {@code r} is example
 * {@code ids[r]}, its logits {@code logits[r * classes, (r + 1) * classes)}. Written to Parquet as it is
 * ({@link ParquetBatchFormat}), or as Spark rows ({@link #row}).
 */
public record ScoreBatch(long[] ids, int[] labels, double[] loss, double[] el2n, double[] entropy, double[] margin,
                         double[] grand, float[] logits, int classes) implements ParquetBatchFormat.Batch {
    public ScoreBatch {
        int n = ids.length;
        if (labels.length != n || loss.length != n || el2n.length != n || entropy.length != n || margin.length != n
                || grand.length != n || classes < 1 || logits.length != (long) n * classes) {
            throw new IllegalArgumentException("columns of " + n + " rows expected (logits: " + classes
                    + " per row), got " + labels.length + ", " + loss.length + ", " + el2n.length + ", "
                    + entropy.length + ", " + margin.length + ", " + grand.length + " and " + logits.length);
        }
    }

    @Override
    public int size() {
        return ids.length;
    }

    /** Fields in the order of {@link ScoreJob#SCHEMA}. */
    @Override
    public void putRow(int r, ParquetBatchFormat.RowSink sink) {
        sink.putLong(0, ids[r]);
        sink.putInt(1, labels[r]);
        sink.putDouble(2, loss[r]);
        sink.putDouble(3, el2n[r]);
        sink.putDouble(4, entropy[r]);
        sink.putDouble(5, margin[r]);
        sink.putDouble(6, grand[r]);
        sink.putFloats(7, logits, r * classes, classes);
    }

    /** Row {@code r} as a Spark row of {@link ScoreJob#SCHEMA}. */
    public InternalRow row(int r) {
        return new GenericInternalRow(new Object[] {ids[r], labels[r], loss[r], el2n[r], entropy[r], margin[r],
            grand[r], UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange(logits, r * classes, (r + 1) * classes))});
    }
}
