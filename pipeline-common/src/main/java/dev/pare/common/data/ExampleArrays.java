package dev.pare.common.data;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Examples held in memory as flat arrays: row r has id {@code ids[r]}, label {@code labels[r]}
 * and features {@code features[r·width .. (r+1)·width)}.
 */
public record ExampleArrays(long[] ids, float[] features, int width, int[] labels) {
    public ExampleArrays {
        if (features.length != (long) ids.length * width || labels.length != ids.length) {
            throw new IllegalArgumentException("inconsistent example arrays: " + ids.length + " ids, " + labels.length
                    + " labels, " + features.length + " features of width " + width);
        }
    }

    public int size() {
        return ids.length;
    }

    /** Rows {@code rows} (in that order) as a {@code [rows.length, width]} float array. */
    public INDArray featureBatch(int[] rows, int from, int to) {
        float[] buf = new float[(to - from) * width];
        for (int r = from; r < to; r++) {
            System.arraycopy(features, rows[r] * width, buf, (r - from) * width, width);
        }
        return Nd4j.create(buf, new long[] {to - from, width}, 'c');
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
        return Nd4j.create(Arrays.copyOfRange(features, from * width, to * width), new long[] {to - from, width}, 'c');
    }
}
