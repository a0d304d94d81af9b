package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pare.jobs.support.SharedLocalSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.junit.jupiter.api.Test;

/**
 * The checks a pass makes on its way ({@link PartitionChecks}): the rows a model cannot take are left out, and
 * the partitions' checks merge to what one check of all rows gives, each partition counted once.
 */
class PartitionChecksTest extends SharedLocalSpark {
    private static final int WIDTH = 3;
    private static final int CLASSES = 4;

    /** Ids 0..29 in 3 partitions: id 5 without a label, id 7 with 2 features, id 11 labelled 9, id 13 with a NaN. */
    private static List<InternalRow> rows() {
        List<InternalRow> rows = new ArrayList<>();
        for (long id = 0; id < 30; id++) {
            float[] f = id == 7 ? new float[] {1f, 2f} : new float[] {id, 0.5f, id == 13 ? Float.NaN : -1f};
            Object label = id == 5 ? null : id == 11 ? 9 : (int) (id % CLASSES);
            rows.add(new GenericInternalRow(new Object[] {id, UnsafeArrayData.fromPrimitiveArray(f), label}));
        }
        return rows;
    }

    private static JavaRDD<InternalRow> rdd() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows(), 3);
    }

    @Test
    void rowsAModelCannotTakeAreCheckedAndLeftOut() {
        PartitionChecks checks = PartitionChecks.register(spark.sparkContext(), "test checks", WIDTH, CLASSES);
        JavaRDD<InternalRow> in = rdd();
        List<Long> kept = in.mapPartitions(checks::checked).map(r -> r.getLong(0)).collect();
        List<Long> expected = new ArrayList<>();
        for (long id = 0; id < 30; id++) {
            if (id != 5 && id != 7 && id != 11 && id != 13) {
                expected.add(id);
            }
        }
        assertEquals(expected, kept);

        ExampleChecks merged = checks.merged(3, "the test's pass");
        ExampleChecks whole = new ExampleChecks(WIDTH, CLASSES);
        rows().forEach(whole::add);
        for (ExampleChecks c : List.of(merged, whole)) {
            assertEquals(30, c.rows());
            assertEquals(1, c.nulls().count());
            assertEquals(5L, c.nulls().firstId());
            assertEquals(1, c.badLength().count());
            assertEquals(7L, c.badLength().firstId());
            assertEquals(1, c.badLabel().count());
            assertEquals(11L, c.badLabel().firstId());
            assertEquals(1, c.nonFinite().count());
            assertEquals(13L, c.nonFinite().firstId());
        }
    }

    @Test
    void aPartitionReadTwiceCountsOnceAndAMissingOneIsAnError() {
        PartitionChecks checks = PartitionChecks.register(spark.sparkContext(), "test checks", WIDTH, CLASSES);
        JavaRDD<InternalRow> checked = rdd().mapPartitions(checks::checked);
        assertEquals(26, checked.count());
        assertEquals(26, checked.count());
        assertEquals(30, checks.merged(3, "the test's pass").rows());

        PartitionChecks partial = PartitionChecks.register(spark.sparkContext(), "test checks", WIDTH, CLASSES);
        // Only partition 1's rows go through the checks.
        rdd().mapPartitionsWithIndex((i, it) -> i == 1 ? partial.checked(it) : java.util.Collections.emptyIterator(),
                false).count();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> partial.merged(3, "the test's pass"));
        assertEquals("the test's pass reported the checks of 1 of the table's 3 partitions", e.getMessage());
    }
}
