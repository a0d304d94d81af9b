package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.junit.jupiter.api.Test;

/** The per-row checks without Spark: rows built by hand, expected counts and first ids by hand. */
class ExampleChecksTest {
    private static final int WIDTH = 3;
    private static final int CLASSES = 4;
    private static final float NAN = Float.NaN;
    private static final float INF = Float.POSITIVE_INFINITY;

    /** A row (id, features, label); null stands for SQL NULL, features elements included. */
    private static InternalRow row(Long id, Float[] features, Integer label) {
        ArrayData f = features == null ? null : new GenericArrayData(features);
        return new GenericInternalRow(new Object[] {id, f, label});
    }

    /** A row with features in Spark's unsafe layout, as the Parquet reader gives them. */
    private static InternalRow unsafeRow(long id, float[] features, int label) {
        return new GenericInternalRow(new Object[] {id, UnsafeArrayData.fromPrimitiveArray(features), label});
    }

    private static Float[] f(Float... values) {
        return values;
    }

    private static ExampleChecks check(List<InternalRow> rows) {
        ExampleChecks checks = new ExampleChecks(WIDTH, CLASSES);
        rows.forEach(checks::add);
        return checks;
    }

    /**
     * Every count, first id and first value, for comparing accumulators (not the uniqueness proof:
     * where it is found may depend on the partitioning, see {@link AscendingIdRuns}).
     */
    private static String summary(ExampleChecks c) {
        StringBuilder s = new StringBuilder("rows=" + c.rows());
        for (ExampleChecks.Offenders o : List.of(c.nulls(), c.badLength(), c.badLabel(), c.nonFinite())) {
            s.append(" [").append(o.count()).append(' ').append(o.firstId()).append(' ').append(o.firstValue()).append(']');
        }
        return s.toString();
    }

    @Test
    void nanInfinitiesAndNullElementsAreNonFiniteOncePerRow() {
        ExampleChecks c = check(List.of(
                row(9L, f(0f, 1f, 2f), 0),
                row(8L, f(NAN, 1f, 2f), 0),
                row(7L, f(0f, 1f, INF), 1),
                row(6L, f(0f, -INF, 2f), 2),
                row(5L, f(0f, null, 2f), 3),
                row(4L, f(NAN, null, INF), 3),
                row(3L, f(Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE), 0),
                unsafeRow(2L, new float[] {0f, 0f, -INF}, 1),
                unsafeRow(1L, new float[] {-0f, 1e-45f, 3e38f}, 1)));
        assertEquals(9, c.rows());
        assertEquals(6, c.nonFinite().count());
        assertEquals(2L, c.nonFinite().firstId());
        assertEquals(0, c.nulls().count(), "a null element is not a null column");
        assertEquals(0, c.badLength().count());
        assertEquals(0, c.badLabel().count());
        assertTrue(c.idsProvenUnique());
    }

    @Test
    void anEmptyArrayHasNoNonFiniteElementButTheWrongLength() {
        ExampleChecks c = check(List.of(row(1L, f(), 0), row(2L, f(1f, 2f, 3f), 0)));
        assertEquals(0, c.nonFinite().count());
        assertEquals(1, c.badLength().count());
        assertEquals(1L, c.badLength().firstId());
        assertEquals(0, c.badLength().firstValue());
    }

    @Test
    void nullFeaturesAreANullAndLengthMinusOneAsInSqlButNotNonFinite() {
        // size(NULL) = -1 in Spark SQL (not ANSI), exists(NULL, ...) is NULL: what the former SQL counted.
        ExampleChecks c = check(List.of(row(3L, f(1f, 2f, 3f), 0), row(4L, null, 1)));
        assertEquals(1, c.nulls().count());
        assertEquals(4L, c.nulls().firstId());
        assertEquals(1, c.badLength().count());
        assertEquals(4L, c.badLength().firstId());
        assertEquals(-1, c.badLength().firstValue());
        assertEquals(0, c.nonFinite().count());
    }

    @Test
    void labelsOutsideTheClassesButNotNullLabels() {
        ExampleChecks c = check(List.of(
                row(10L, f(1f, 2f, 3f), CLASSES),
                row(11L, f(1f, 2f, 3f), -1),
                row(12L, f(1f, 2f, 3f), null),
                row(13L, f(1f, 2f, 3f), CLASSES - 1),
                row(14L, f(1f, 2f, 3f), 0)));
        assertEquals(2, c.badLabel().count());
        assertEquals(10L, c.badLabel().firstId());
        assertEquals(CLASSES, c.badLabel().firstValue());
        assertEquals(1, c.nulls().count());
        assertEquals(12L, c.nulls().firstId());
    }

    @Test
    void theFirstOffenderIsTheSmallestIdWhateverTheOrder() {
        List<InternalRow> rows = new ArrayList<>();
        for (long id = 0; id < 50; id++) {
            boolean bad = id == 17 || id == 31 || id == 44;
            rows.add(row(id, f(1f, bad ? NAN : 2f), bad ? 9 : 1));
        }
        Collections.reverse(rows);
        ExampleChecks c = check(rows);
        assertEquals(3, c.nonFinite().count());
        assertEquals(17L, c.nonFinite().firstId());
        assertEquals(50, c.badLength().count(), "every row has 2 features, not 3");
        assertEquals(0L, c.badLength().firstId());
        assertEquals(2, c.badLength().firstValue());
        assertEquals(3, c.badLabel().count());
        assertEquals(17L, c.badLabel().firstId());
        assertEquals(9, c.badLabel().firstValue());
    }

    @Test
    void rowsWithoutAnIdAreCountedButComeLastAsInSqlMin() {
        ExampleChecks c = check(List.of(row(null, f(1f, 2f, 3f), -7), row(20L, f(1f, 2f, 3f), 5),
                row(null, f(1f, NAN, 3f), 0)));
        assertEquals(2, c.nulls().count());
        assertNull(c.nulls().firstId(), "only id-less rows have a null: no first id");
        assertEquals(2, c.badLabel().count());
        assertEquals(20L, c.badLabel().firstId());
        assertEquals(5, c.badLabel().firstValue());
        assertEquals(1, c.nonFinite().count());
        assertNull(c.nonFinite().firstId());

        ExampleChecks idless = check(List.of(row(null, f(1f), 9), row(null, f(1f, 2f), 6)));
        assertNull(idless.badLength().firstId());
        assertEquals(1, idless.badLength().firstValue(), "the smallest value among id-less rows");
        assertEquals(6, idless.badLabel().firstValue());
    }

    @Test
    void aRepeatedIdReportsItsSmallestValueInEitherOrder() {
        InternalRow longer = row(4L, f(1f, 2f, 3f, 4f), 8);
        InternalRow shorter = row(4L, f(1f), 5);
        for (List<InternalRow> rows : List.of(List.of(longer, shorter), List.of(shorter, longer))) {
            ExampleChecks c = check(rows);
            assertEquals(2, c.badLength().count());
            assertEquals(4L, c.badLength().firstId());
            assertEquals(1, c.badLength().firstValue());
            assertEquals(5, c.badLabel().firstValue());
            assertFalse(c.idsProvenUnique());
        }
        ExampleChecks split = check(List.of(longer)).merge(check(List.of(shorter)));
        assertEquals(1, split.badLength().firstValue());
        assertEquals(summary(check(List.of(shorter, longer))), summary(split));
    }

    @Test
    void mergedPartitionsEqualOneAccumulatorOverAllRows() {
        Random random = new Random(11);
        Float[][] kinds = {f(1f, 2f, 3f), f(NAN, 2f, 3f), f(1f, INF, 3f), f(1f, 2f, -INF), f(null, 2f, 3f), f(1f, 2f),
            null};
        List<InternalRow> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Long id = random.nextInt(20) == 0 ? null : (long) random.nextInt(150);
            Integer label = random.nextInt(25) == 0 ? null : random.nextInt(CLASSES + 2) - 1;
            rows.add(row(id, kinds[random.nextInt(kinds.length)], label));
        }
        String whole = summary(check(rows));
        for (int trial = 0; trial < 20; trial++) {
            List<ExampleChecks> parts = new ArrayList<>();
            int from = 0;
            while (from < rows.size()) {
                int to = Math.min(rows.size(), from + random.nextInt(60));
                parts.add(check(rows.subList(from, to)));
                from = to;
            }
            Collections.shuffle(parts, random);
            ExampleChecks merged = new ExampleChecks(WIDTH, CLASSES);
            parts.forEach(merged::merge);
            assertEquals(whole, summary(merged), "trial " + trial + ", " + parts.size() + " parts");
        }
    }

    @Test
    void checksForAnotherShapeDoNotMerge() {
        ExampleChecks c = new ExampleChecks(WIDTH, CLASSES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.merge(new ExampleChecks(WIDTH + 1, CLASSES)));
        assertTrue(e.getMessage().contains("feature length 4"), e.getMessage());
    }

    @Test
    void countedIdsAreTheDistinctIdsAndTheSmallestRepeatedOne() {
        // Sorted: 1, 3, 3, 3, 5, 5, 8: 4 distinct; 3 is the smallest repeated id (3 times), 5 repeats too.
        long[] ids = {5, 3, 8, 5, 1, 3, 3, 99};
        assertEquals(new ExampleChecks.CountedIds(7, 4, 3, 3), ExampleChecks.CountedIds.of(ids, 7),
                "the first 7 ids only");
        assertEquals(new ExampleChecks.CountedIds(2, 1, -4, 2), ExampleChecks.CountedIds.of(new long[] {-4, -4}, 2));
        assertEquals(new ExampleChecks.CountedIds(3, 3, 0, 0), ExampleChecks.CountedIds.of(new long[] {9, -1, 4}, 3));
        long[] ascending = {-7, 0, 12, 13};
        assertEquals(new ExampleChecks.CountedIds(4, 4, 0, 0), ExampleChecks.CountedIds.of(ascending, 4));
        assertEquals(new ExampleChecks.CountedIds(0, 0, 0, 0), ExampleChecks.CountedIds.of(new long[0], 0));
        // Equal neighbours do not ascend strictly.
        assertEquals(new ExampleChecks.CountedIds(3, 2, 2, 2), ExampleChecks.CountedIds.of(new long[] {1, 2, 2}, 3));
    }
}
