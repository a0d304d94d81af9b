package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pare.common.data.ExampleArrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

/** {@link CanonicalBatches} on rows made by hand: two files, the first of three row groups. */
class CanonicalBatchesTest {
    private static final Map<String, long[]> GROUPS = Map.of("file:/t/a.parquet", new long[] {250, 250, 130},
            "file:/t/b.parquet", new long[] {300});

    @Test
    void chunksSplitEachRowGroupIntoNearlyEqualRunsOfAtMostABatch() {
        // 250 rows at batch 100: 3 chunks from 0, 83, 166; 130 rows: 2 chunks of 65; then the end (630).
        assertArrayEquals(new long[] {0, 83, 166, 250, 333, 416, 500, 565, 630},
                CanonicalBatches.chunkStarts(GROUPS.get("file:/t/a.parquet"), 100));
        assertArrayEquals(new long[] {0, 100, 200, 300}, CanonicalBatches.chunkStarts(new long[] {300}, 100));
        assertArrayEquals(new long[] {0, 5}, CanonicalBatches.chunkStarts(new long[] {5}, 100));
        // An empty row group makes an empty chunk that no row falls in.
        assertArrayEquals(new long[] {0, 0, 7}, CanonicalBatches.chunkStarts(new long[] {0, 7}, 100));
    }

    /** Rows {@code [from, to)} of {@code file} (id = 1000 × file number + row, one feature = the id). */
    private static List<InternalRow> rows(String file, int from, int to) {
        List<InternalRow> out = new ArrayList<>();
        long base = file.endsWith("a.parquet") ? 0 : 1000;
        for (int i = from; i < to; i++) {
            out.add(new GenericInternalRow(new Object[] {base + i,
                UnsafeArrayData.fromPrimitiveArray(new float[] {base + i}), i % 10, UTF8String.fromString(file),
                (long) i}));
        }
        return out;
    }

    private static List<long[]> batchIds(List<InternalRow> input, int batchSize) {
        List<long[]> out = new ArrayList<>();
        new CanonicalBatches(input.iterator(), batchSize, 1, GROUPS::get).forEachRemaining(b -> {
            for (int r = 0; r < b.size(); r++) {
                assertEquals((float) b.ids()[r], b.features()[r], "features travel with their row");
                assertEquals((int) (b.ids()[r] % 1000 % 10), b.labels()[r]);
            }
            out.add(b.ids());
        });
        return out;
    }

    private static long[] range(long from, long to) {
        return java.util.stream.LongStream.range(from, to).toArray();
    }

    @Test
    void theBatchesOfARowGroupAreTheSameWhicheverSplitReadsIt() {
        List<InternalRow> whole = new ArrayList<>(rows("file:/t/a.parquet", 0, 630));
        whole.addAll(rows("file:/t/b.parquet", 0, 300));
        List<long[]> all = batchIds(whole, 100);
        List<long[]> expected = List.of(range(0, 83), range(83, 166), range(166, 250), range(250, 333),
                range(333, 416), range(416, 500), range(500, 565), range(565, 630), range(1000, 1100),
                range(1100, 1200), range(1200, 1300));
        assertEquals(expected.size(), all.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), all.get(i), "batch " + i);
        }
        // A split of a's second and third row groups, another of its first group and b: the same batches.
        List<long[]> second = batchIds(rows("file:/t/a.parquet", 250, 630), 100);
        List<InternalRow> rest = new ArrayList<>(rows("file:/t/a.parquet", 0, 250));
        rest.addAll(rows("file:/t/b.parquet", 0, 300));
        List<long[]> first = batchIds(rest, 100);
        List<long[]> joined = new ArrayList<>(first.subList(0, 3));
        joined.addAll(second);
        joined.addAll(first.subList(3, first.size()));
        assertEquals(all.size(), joined.size());
        for (int i = 0; i < all.size(); i++) {
            assertArrayEquals(all.get(i), joined.get(i), "batch " + i);
        }
    }

    @Test
    void batchesReadTheirFeaturesIntoOneArrayThatGrowsWithTheirSize() {
        List<InternalRow> input = new ArrayList<>(rows("file:/t/a.parquet", 0, 630));
        input.addAll(rows("file:/t/b.parquet", 0, 300));
        Map<String, long[]> groups = Map.of("file:/t/a.parquet", new long[] {20, 480, 130},
                "file:/t/b.parquet", new long[] {300});
        List<float[]> arrays = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        new CanonicalBatches(input.iterator(), 100, 1, groups::get).forEachRemaining(b -> {
            for (int r = 0; r < b.size(); r++) {
                assertEquals((float) b.ids()[r], b.features()[r], "features travel with their row");
            }
            arrays.add(b.features());
            sizes.add(b.size());
        });
        // Chunks of 20, then 96 (480 in 5), 65 and 100 rows: an array of 20 + 5, then of 96 + 24 capped at the
        // batch size, kept for the rest.
        assertEquals(List.of(20, 96, 96, 96, 96, 96, 65, 65, 100, 100, 100), sizes);
        assertEquals(25, arrays.get(0).length);
        assertEquals(100, arrays.get(1).length);
        for (int i = 2; i < arrays.size(); i++) {
            assertSame(arrays.get(1), arrays.get(i), "batch " + i);
        }
    }

    @Test
    void aRowBeyondTheFooterIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> batchIds(rows("file:/t/b.parquet", 299, 301), 100));
        assertEquals(true, e.getMessage().contains("file:/t/b.parquet") && e.getMessage().contains("300 rows"),
                e.getMessage());
    }
}
