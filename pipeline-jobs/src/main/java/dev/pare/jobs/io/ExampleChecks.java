package dev.pare.jobs.io;

import java.io.Serializable;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;

/**
 * The per-row checks of {@link ExampleTable#validate} over example rows (id, features, label) in
 * Spark's internal form, as a mergeable accumulator: {@link #add} every row of a partition,
 * {@link #merge} the partitions. A plain loop over {@link ArrayData}: Spark interprets higher-order
 * functions such as {@code exists(features, x -> ...)}, boxing every float.
 *
 * <p>The checks, as the SQL they replace (Spark's defaults, where {@code size(NULL)} is -1):
 * <ul>
 *   <li>{@link #nulls()}: {@code id IS NULL OR features IS NULL OR label IS NULL};
 *   <li>{@link #badLength()}: {@code size(features) <> featureLength}, so null features count with
 *       length -1; its value is the length;
 *   <li>{@link #badLabel()}: {@code label < 0 OR label >= numClasses} (a null label is not counted);
 *       its value is the label;
 *   <li>{@link #nonFinite()}: {@code exists(features, x -> x IS NULL OR isnan(x)
 *       OR x = float('Infinity') OR x = float('-Infinity'))} (null features are not counted, an
 *       empty array passes).
 * </ul>
 * Every check keeps its count and its first offender (see {@link Offenders}), both independent of
 * partitioning and merge order. The ids, in reading order, feed {@link #idsProvenUnique()}, a proof
 * that may be found for one partitioning and not another, but is never wrong.
 */
public final class ExampleChecks implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long featureLength;
    private final int numClasses;
    private long rows;
    private final Offenders nulls = new Offenders();
    private final Offenders badLength = new Offenders();
    private final Offenders badLabel = new Offenders();
    private final Offenders nonFinite = new Offenders();
    private final AscendingIdRuns ids = new AscendingIdRuns();
    private CountedIds counted;

    public ExampleChecks(long featureLength, int numClasses) {
        this.featureLength = featureLength;
        this.numClasses = numClasses;
    }

    /**
     * Checks one row: column 0 the id (long), 1 the features (array of float), 2 the label (int). True when the
     * row passes every check (an id's repeats aside): a row a model can take.
     */
    public boolean add(InternalRow row) {
        rows++;
        boolean noId = row.isNullAt(0);
        long id = noId ? 0 : row.getLong(0);
        if (!noId) {
            ids.add(id);
        }
        ArrayData features = row.isNullAt(1) ? null : row.getArray(1);
        boolean noLabel = row.isNullAt(2);
        if (noId || features == null || noLabel) {
            nulls.add(noId, id, 0);
        }
        int length = features == null ? -1 : features.numElements();
        if (length != featureLength) {
            badLength.add(noId, id, length);
        }
        boolean labelInRange = false;
        if (!noLabel) {
            int label = row.getInt(2);
            labelInRange = label >= 0 && label < numClasses;
            if (!labelInRange) {
                badLabel.add(noId, id, label);
            }
        }
        boolean finite = true;
        if (features != null && hasNonFinite(features, length)) {
            nonFinite.add(noId, id, 0);
            finite = false;
        }
        // features != null is implied: null features have length -1.
        return !noId && labelInRange && length == featureLength && finite;
    }

    private static boolean hasNonFinite(ArrayData features, int length) {
        for (int i = 0; i < length; i++) {
            if (features.isNullAt(i) || !Float.isFinite(features.getFloat(i))) {
                return true;
            }
        }
        return false;
    }

    /** Adds the rows checked by {@code other}; returns this. */
    public ExampleChecks merge(ExampleChecks other) {
        if (other.featureLength != featureLength || other.numClasses != numClasses) {
            throw new IllegalArgumentException("checks for feature length " + other.featureLength + " and "
                    + other.numClasses + " classes cannot merge into checks for " + featureLength + " and "
                    + numClasses);
        }
        rows += other.rows;
        nulls.merge(other.nulls);
        badLength.merge(other.badLength);
        badLabel.merge(other.badLabel);
        nonFinite.merge(other.nonFinite);
        ids.merge(other.ids);
        return this;
    }

    public long rows() {
        return rows;
    }

    /** The feature length rows must have. */
    public long featureLength() {
        return featureLength;
    }

    /** Labels must be in {@code [0, numClasses)}. */
    public int numClasses() {
        return numClasses;
    }

    /** Rows with a null id, features or label. */
    public Offenders nulls() {
        return nulls;
    }

    /** Rows whose feature count is not the expected length (null features: length -1). */
    public Offenders badLength() {
        return badLength;
    }

    /** Rows whose label is outside {@code [0, numClasses)}. */
    public Offenders badLabel() {
        return badLabel;
    }

    /** Rows with a null, NaN or infinite feature. */
    public Offenders nonFinite() {
        return nonFinite;
    }

    /**
     * True when the non-null ids are certainly unique ({@link AscendingIdRuns}); false when they may
     * repeat, and only a count of distinct ids can tell.
     */
    public boolean idsProvenUnique() {
        return ids.provesUnique();
    }

    /**
     * The ids of the same table counted by another read of its id column (calibrate's ranking reads every
     * id): {@link ExampleTable#judge} uses them instead of counting in a Spark job of its own, when they are
     * as many as the rows checked.
     */
    public void countedIds(CountedIds ids) {
        this.counted = ids;
    }

    /** What {@link #countedIds(CountedIds)} gave; null when nothing did. */
    public CountedIds countedIds() {
        return counted;
    }

    /**
     * A table's ids counted: how many were read, how many distinct values they hold, and the smallest id
     * that repeats with the number of times it appears (both 0 when none repeats), as SQL's
     * {@code count(DISTINCT id)} and {@code groupBy(id).count().filter("count > 1").orderBy(id).first()} say.
     */
    public record CountedIds(long ids, long distinct, long firstRepeated, long times) implements Serializable {
        /**
         * The counts of {@code ids[0..n)} in any order; the array is sorted in place unless its ids ascend
         * strictly, which proves them distinct in one pass.
         */
        public static CountedIds of(long[] ids, int n) {
            boolean ascending = true;
            for (int i = 1; i < n && ascending; i++) {
                ascending = ids[i - 1] < ids[i];
            }
            if (ascending) {
                return new CountedIds(n, n, 0, 0);
            }
            java.util.Arrays.sort(ids, 0, n);
            long distinct = 0;
            long first = 0;
            long times = 0;
            for (int i = 0; i < n; ) {
                int j = i + 1;
                while (j < n && ids[j] == ids[i]) {
                    j++;
                }
                distinct++;
                if (j - i > 1 && times == 0) {
                    first = ids[i];
                    times = j - i;
                }
                i = j;
            }
            return new CountedIds(n, distinct, first, times);
        }
    }

    /**
     * The rows failing one check: how many, and the first of them, which is the one with the
     * smallest id (as SQL's {@code min}, rows without an id come last), then the smallest value
     * (a repeated id), so that it does not depend on partitioning.
     */
    public static final class Offenders implements Serializable {
        private static final long serialVersionUID = 1L;

        private long count;
        private boolean any;
        private boolean firstHasId;
        private long firstId;
        private long firstValue;

        void add(boolean noId, long id, long value) {
            count++;
            offer(!noId, id, value);
        }

        void merge(Offenders other) {
            count += other.count;
            if (other.any) {
                offer(other.firstHasId, other.firstId, other.firstValue);
            }
        }

        private void offer(boolean hasId, long id, long value) {
            if (precedesFirst(hasId, id, value)) {
                any = true;
                firstHasId = hasId;
                firstId = hasId ? id : 0;
                firstValue = value;
            }
        }

        private boolean precedesFirst(boolean hasId, long id, long value) {
            if (!any) {
                return true;
            }
            if (hasId != firstHasId) {
                return hasId;
            }
            if (hasId && id != firstId) {
                return id < firstId;
            }
            return value < firstValue;
        }

        public long count() {
            return count;
        }

        /** The first offender's id; null when none has an id (or there is no offender). */
        public Long firstId() {
            return any && firstHasId ? firstId : null;
        }

        /** The first offender's value (length or label; 0 for the checks without one). */
        public long firstValue() {
            return firstValue;
        }
    }
}
