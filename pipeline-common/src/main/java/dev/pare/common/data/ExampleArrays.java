package dev.pare.common.data;

import dev.pare.common.util.Layouts;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Examples held in memory as flat arrays: row r has id {@code ids[r]}, label {@code labels[r]}
 * and features {@code features[r·width .. (r+1)·width)}. {@code features} may be longer than
 * {@code size()·width} (a reader's reused buffer): the values past the examples' are not theirs.
 */
public record ExampleArrays(long[] ids, float[] features, int width, int[] labels) {
    public ExampleArrays {
        if (features.length < (long) ids.length * width || labels.length != ids.length) {
            throw new IllegalArgumentException("inconsistent example arrays: " + ids.length + " ids, " + labels.length
                    + " labels, " + features.length + " features of width " + width);
        }
    }

    public int size() {
        return ids.length;
    }

    /** Rows {@code rows[from, to)} (in that order) as a {@code [to - from, width]} float array. */
    public INDArray featureBatch(int[] rows, int from, int to) {
        return featureBatch(rows, from, to, Nd4j.createUninitialized(DataType.FLOAT, new long[] {to - from, width}, 'c'));
    }

    /** Rows {@code rows[from, to)} (in that order) written into {@code into}, as {@link #featureRange(int, int, INDArray)}. */
    public INDArray featureBatch(int[] rows, int from, int to, INDArray into) {
        checkBatchArray(from, to, into);
        FloatBuffer out = into.data().asNioFloat();
        for (int r = from; r < to; r++) {
            out.position((r - from) * width);
            out.put(features, rows[r] * width, width);
        }
        return writtenOnHost(into);
    }

    /** The rows {@code rows} (in that order) as new example arrays. */
    public ExampleArrays rows(int[] rows) {
        long[] i = new long[rows.length];
        int[] l = new int[rows.length];
        float[] f = new float[rows.length * width];
        for (int k = 0; k < rows.length; k++) {
            i[k] = ids[rows[k]];
            l[k] = labels[rows[k]];
            System.arraycopy(features, rows[k] * width, f, k * width, width);
        }
        return new ExampleArrays(i, f, width, l);
    }

    /** Contiguous rows {@code [from, to)} as a {@code [to - from, width]} float array. */
    public INDArray featureRange(int from, int to) {
        return featureRange(from, to, Nd4j.createUninitialized(DataType.FLOAT, new long[] {to - from, width}, 'c'));
    }

    /** Rows {@code [from, to)} written into {@code into}, a fresh-layout {@code [to - from, width]} 'c' float array. */
    public INDArray featureRange(int from, int to, INDArray into) {
        checkBatchArray(from, to, into);
        into.data().asNioFloat().put(features, from * width, (to - from) * width);
        return writtenOnHost(into);
    }

    private void checkBatchArray(int from, int to, INDArray into) {
        if (into.dataType() != DataType.FLOAT || into.rank() != 2 || !Layouts.leading(into, 'c')
                || into.rows() != to - from || into.columns() != width) {
            throw new IllegalArgumentException("expected a [" + (to - from) + ", " + width + "] 'c' float array, got "
                    + into.shapeInfoToString());
        }
    }

    /**
     * Marks {@code x}, filled through its host buffer, as current on the host (a no-op on the CPU
     * backend; on CUDA the device copy is refreshed before use). Filling the buffer directly is 3-5x
     * faster than {@code Nd4j.create(float[])}, which was a fifth of a fused KD step.
     */
    private static INDArray writtenOnHost(INDArray x) {
        Nd4j.getAffinityManager().tagLocation(x, AffinityManager.Location.HOST);
        return x;
    }
}
