package dev.pare.jobs.spark;

import static org.apache.spark.sql.functions.col;

import dev.pare.common.data.ExampleArrays;
import dev.pare.jobs.io.ColumnarScan;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Scans;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;

/** Conversion of canonical example rows (id, features, label) into arrays. */
public final class Rows {
    private Rows() {}

    /**
     * The example columns (id, features, label) of {@code examples} as Spark's internal rows, whose
     * features are read as one {@code float[]} copy instead of 784 boxed {@code Float}s (what
     * {@code Dataset.javaRDD()} builds). An iterator of internal rows may reuse its row object: read
     * each row before the next, as {@link #takeInternal} does, or {@code copy()} it. File scans of
     * rows of {@code width} features are split for compute and vectorized ({@link Scans}), and their
     * column batches read without Spark's conversion to rows where the plan allows ({@link ColumnarScan}).
     */
    public static JavaRDD<InternalRow> internal(Dataset<Row> examples, int width) {
        return ColumnarScan.rows(exampleColumns(examples), width);
    }

    /** {@link #internal}'s query planned once, for its rows and for a column read on the driver (its ids: column 0). */
    public static ColumnarScan.Planned plannedInternal(Dataset<Row> examples, int width) {
        return ColumnarScan.planned(exampleColumns(examples), width);
    }

    /**
     * {@link #internal} with two more columns, the row's file (3, a URI string) and its index in that
     * file (4, long): Spark's {@code _metadata.file_path} and {@code _metadata.row_index}, for
     * {@link CanonicalBatches}.
     */
    public static JavaRDD<InternalRow> internalPlaced(Dataset<Row> examples, int width) {
        return ColumnarScan.rows(examples.select(col(ExampleTable.ID), col(ExampleTable.FEATURES),
                col(ExampleTable.LABEL), col("_metadata.file_path"), col("_metadata.row_index")), width);
    }

    /** The columns id, features, label of {@code examples}, in that order. */
    private static Dataset<Row> exampleColumns(Dataset<Row> examples) {
        return examples.select(ExampleTable.ID, ExampleTable.FEATURES, ExampleTable.LABEL);
    }

    /** Up to {@code max} internal rows (id, features, label, ...) from {@code it} as example arrays. */
    public static ExampleArrays takeInternal(Iterator<InternalRow> it, int max, int width) {
        return takeInternal(it, max, width, null);
    }

    /**
     * As {@link #takeInternal(Iterator, int, int)}, the features read into {@code into} when it holds at
     * least {@code max·width} values (the examples then hold {@code into} itself, ids and labels are theirs).
     */
    public static ExampleArrays takeInternal(Iterator<InternalRow> it, int max, int width, float[] into) {
        long[] ids = new long[max];
        int[] labels = new int[max];
        float[] features = into != null && into.length >= max * width ? into : new float[max * width];
        int n = 0;
        while (n < max && it.hasNext()) {
            InternalRow r = it.next();
            ids[n] = r.getLong(0);
            FloatCopy.copy(array(r, 1, "1", width, ids[n]), features, n * width);
            labels[n] = r.getInt(2);
            n++;
        }
        if (n == max) {
            return new ExampleArrays(ids, features, width, labels);
        }
        if (features == into) {
            return new ExampleArrays(Arrays.copyOf(ids, n), features, width, Arrays.copyOf(labels, n));
        }
        return new ExampleArrays(Arrays.copyOf(ids, n), Arrays.copyOf(features, n * width), width,
                Arrays.copyOf(labels, n));
    }

    /** Column {@code column} of {@code row} (an array of {@code width} floats) as a fresh array. */
    public static float[] features(InternalRow row, int column, int width, long id) {
        return floats(row, column, String.valueOf(column), width, id);
    }

    /** {@link #features}, naming the column {@code name} when it does not hold {@code width} values. */
    public static float[] floats(InternalRow row, int column, String name, int width, long id) {
        return array(row, column, name, width, id).toFloatArray();
    }

    /** Column {@code column} of {@code row}, refused (naming the column {@code name}) unless it holds {@code width} values. */
    private static ArrayData array(InternalRow row, int column, String name, int width, long id) {
        ArrayData a = row.getArray(column);
        if (a.numElements() != width) {
            throw new IllegalArgumentException("example id " + id + ": column " + name + " holds "
                    + a.numElements() + " values, expected " + width);
        }
        return a;
    }

    /**
     * Every example of {@code examples}, in id order, collected to the driver without boxing. Sorted
     * on the driver: Spark's {@code orderBy} would shuffle every row's features first (the 10k test
     * rows of a distill stage: a 0.65 s job).
     */
    public static ExampleArrays collectInIdOrder(Dataset<Row> examples, int width) {
        List<InternalRow> rows = collectInternalInIdOrder(exampleColumns(examples), width);
        return takeInternal(rows.iterator(), rows.size(), width);
    }

    /**
     * Every example of {@code examples} in id order, as {@link #collectInIdOrder} gives them, read on the
     * driver with no Spark job where Pare's reader reads the table's scan ({@link ColumnarScan#onDriver});
     * empty where it does not. No task to schedule, no rows to serialize and collect: the 10k test rows of a
     * distill stage took a 1.3 s job in a fresh JVM.
     */
    public static Optional<ExampleArrays> readInIdOrder(Dataset<Row> examples, int width) {
        Optional<ColumnarScan.DriverRows> scan = ColumnarScan.onDriver(exampleColumns(examples), width);
        if (scan.isEmpty()) {
            return Optional.empty();
        }
        List<float[]> features = new ArrayList<>();
        long[] ids = new long[1024];
        int[] labels = new int[1024];
        int n = 0;
        try (ColumnarScan.DriverRows rows = scan.get()) {
            while (rows.hasNext()) {
                InternalRow r = rows.next();
                if (n == ids.length) {
                    ids = Arrays.copyOf(ids, 2 * n);
                    labels = Arrays.copyOf(labels, 2 * n);
                }
                ids[n] = r.getLong(0);
                features.add(features(r, 1, width, ids[n]));
                labels[n] = r.getInt(2);
                n++;
            }
        }
        long[] order = ids;
        int[] byId = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingLong(i -> order[i])).mapToInt(Integer::intValue).toArray();
        long[] sortedIds = new long[n];
        int[] sortedLabels = new int[n];
        float[] sortedFeatures = new float[n * width];
        for (int k = 0; k < n; k++) {
            sortedIds[k] = ids[byId[k]];
            sortedLabels[k] = labels[byId[k]];
            System.arraycopy(features.get(byId[k]), 0, sortedFeatures, k * width, width);
        }
        return Optional.of(new ExampleArrays(sortedIds, sortedFeatures, width, sortedLabels));
    }

    /** {@link #collectInternal}, sorted on the driver by column 0 (a long id, unique). */
    public static List<InternalRow> collectInternalInIdOrder(Dataset<Row> df, int width) {
        List<InternalRow> rows = new ArrayList<>(collectInternal(df, width));
        rows.sort(Comparator.comparingLong(r -> r.getLong(0)));
        return rows;
    }

    /** Every example of {@code examples}, in the dataset's order, collected to the driver without boxing. */
    public static ExampleArrays collect(Dataset<Row> examples, int width) {
        List<InternalRow> rows = collectInternal(exampleColumns(examples), width);
        return takeInternal(rows.iterator(), rows.size(), width);
    }

    /**
     * The internal rows of {@code df} (examples of {@code width} features, scanned as {@link Scans}
     * plans), in order, copied (so none is reused) and collected to the driver.
     */
    public static List<InternalRow> collectInternal(Dataset<Row> df, int width) {
        // Spark's own compact rows, not ColumnarScan's: copies of column-batch rows are generic rows (boxed
        // values, Java-serialized arrays), and collecting the 60k Fashion-MNIST rows so took 0.6-3.1 s, not 0.5-0.9 s.
        return Scans.planned(df.sparkSession(), width, () -> df.queryExecution().toRdd().toJavaRDD())
                .map(InternalRow::copy).collect();
    }
}
