package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;

/** Conversion of canonical example rows (id, features, label) into arrays. */
public final class Rows {
    private Rows() {}

    /** Up to {@code max} rows from {@code it} as example arrays of width {@code width}. */
    public static ExampleArrays take(Iterator<Row> it, int max, int width) {
        long[] ids = new long[max];
        int[] labels = new int[max];
        float[] features = new float[max * width];
        int n = 0;
        while (n < max && it.hasNext()) {
            Row r = it.next();
            ids[n] = r.getLong(0);
            List<Float> f = r.getList(1);
            int off = n * width;
            for (int j = 0; j < width; j++) {
                features[off + j] = f.get(j);
            }
            labels[n] = r.getInt(2);
            n++;
        }
        if (n == max) {
            return new ExampleArrays(ids, features, width, labels);
        }
        return new ExampleArrays(java.util.Arrays.copyOf(ids, n), java.util.Arrays.copyOf(features, n * width), width,
                java.util.Arrays.copyOf(labels, n));
    }

    /** All rows of a collected list. */
    public static ExampleArrays all(List<Row> rows, int width) {
        return take(rows.iterator(), rows.size(), width);
    }
}
