package dev.pare.jobs.spark;

import dev.pare.common.data.ExampleArrays;
import dev.pare.jobs.io.BroadcastConf;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Minibatches of a scan whose composition depends on the table's files alone, not on how the scan
 * was split: the rows of each Parquet row group in ⌈rows / batch⌉ consecutive chunks of nearly equal
 * size ({@code ⌊j·rows/k⌋} to {@code ⌊(j+1)·rows/k⌋}), never across row groups or files.
 *
 * <p>Why: a row's logits depend in their last float bits on the batch it is computed in (OpenBLAS
 * gives a row other bits by its place in the batch and the batch's size), and batches cut from
 * each task's own rows follow the task's split, which follows the cluster's task slots
 * ({@link dev.pare.jobs.io.Scans}). Parquet splits at row groups, so a chunk of one row group is
 * always read whole by one task: the same files give the same batches, hence the same scores, on
 * any number of executors.
 *
 * <p>Rows are read as (id, features, label, file path, row index in the file), the last two from
 * Spark's {@code _metadata} columns ({@link Rows#internalPlaced}); each file's row-group sizes come
 * from its footer, read once per task and file.
 */
final class CanonicalBatches implements Iterator<ExampleArrays> {
    private final Iterator<InternalRow> rows;
    private final int batchSize;
    private final int width;
    private final Function<String, long[]> rowGroupRows;
    private final Map<String, long[]> chunkStarts = new HashMap<>();
    /** The row read ahead of the current batch (a copy: scans reuse their row objects). */
    private InternalRow pending;
    /** The batches' features, array after array (see {@link #next}). */
    private float[] features = new float[0];
    private String lastFile;
    private int lastChunk = -1;

    /**
     * @param rows internal rows (id, features, label, file path, row index), in file order within
     *     each file, as a file scan returns them
     * @param rowGroupRows the rows of each row group of a file, in file order, by file path
     */
    CanonicalBatches(Iterator<InternalRow> rows, int batchSize, int width, Function<String, long[]> rowGroupRows) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive, was " + batchSize);
        }
        this.rows = rows;
        this.batchSize = batchSize;
        this.width = width;
        this.rowGroupRows = rowGroupRows;
    }

    /**
     * The row-group sizes of files, read from their footers with a session's Hadoop settings (file
     * scans' own: the same file systems and credentials). Serializable, for task closures.
     */
    static final class Footers implements Function<String, long[]>, java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final BroadcastConf conf;

        Footers(SparkSession spark) {
            this.conf = BroadcastConf.forTasks(spark, spark.sessionState().newHadoopConf());
        }

        @Override
        public long[] apply(String file) {
            return rowGroupRows(file, conf.value());
        }
    }

    /** The row counts of {@code file}'s row groups, from its Parquet footer. */
    static long[] rowGroupRows(String file, Configuration conf) {
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(java.net.URI.create(file)),
                conf))) {
            return r.getFooter().getBlocks().stream().mapToLong(BlockMetaData::getRowCount).toArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Parquet footer of " + file, e);
        }
    }

    /**
     * The first row index of every chunk of a file of row groups of {@code groupRows} rows, ascending,
     * then the file's row count: chunk c holds rows {@code [starts[c], starts[c + 1])}.
     */
    static long[] chunkStarts(long[] groupRows, int batchSize) {
        long[] starts = new long[16];
        int n = 0;
        long first = 0;
        for (long rowsInGroup : groupRows) {
            long chunks = Math.max(1, (rowsInGroup + batchSize - 1) / batchSize);
            for (long j = 0; j < chunks; j++) {
                if (n == starts.length) {
                    starts = Arrays.copyOf(starts, 2 * n);
                }
                starts[n++] = first + j * rowsInGroup / chunks;
            }
            first += rowsInGroup;
        }
        starts = Arrays.copyOf(starts, n + 1);
        starts[n] = first;
        return starts;
    }

    /** The chunk of row {@code rowIndex} of {@code file}. */
    private int chunkOf(String file, long rowIndex) {
        long[] starts = chunkStarts.computeIfAbsent(file, f -> chunkStarts(rowGroupRows.apply(f), batchSize));
        int at = Arrays.binarySearch(starts, rowIndex);
        int chunk = at >= 0 ? at : -at - 2;
        if (chunk < 0 || chunk >= starts.length - 1) {
            throw new IllegalStateException("row " + rowIndex + " lies outside the " + starts[starts.length - 1]
                    + " rows the footer of " + file + " lists: the file changed while it was read?");
        }
        return chunk;
    }

    /**
     * Where the batch {@link #next} returned last lies: its file and its chunk's number in the file.
     * Ordered by file path, then chunk, these keys put the batches in the same order on any cluster.
     */
    Place lastPlace() {
        if (lastFile == null) {
            throw new IllegalStateException("no batch read yet");
        }
        return new Place(lastFile, lastChunk);
    }

    /** A batch's file and the number of its chunk in that file. */
    record Place(String file, int chunk) implements Comparable<Place>, java.io.Serializable {
        @Override
        public int compareTo(Place o) {
            int c = file.compareTo(o.file);
            return c != 0 ? c : Integer.compare(chunk, o.chunk);
        }
    }

    @Override
    public boolean hasNext() {
        return pending != null || rows.hasNext();
    }

    /**
     * The next batch. Its features array is this iterator's own, overwritten by the batch after it (read
     * them before the next call): new arrays per batch, 2 MB each here, cost the tasks of LeNet-300-100's
     * {@code score-data} 0.35 s of CPU, this machine's fresh memory being slow to touch.
     */
    @Override
    public ExampleArrays next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        InternalRow first = pending != null ? pending : rows.next().copy();
        pending = null;
        UTF8String path = first.getUTF8String(3).clone();
        String file = path.toString();
        int chunk = chunkOf(file, first.getLong(4));
        lastFile = file;
        lastChunk = chunk;
        // The rows of first's chunk: the row after it is kept back (copied) for the next batch.
        Iterator<InternalRow> inChunk = new Iterator<>() {
            private InternalRow head = first;

            @Override
            public boolean hasNext() {
                if (head != null) {
                    return true;
                }
                if (pending != null || !rows.hasNext()) {
                    return false;
                }
                InternalRow following = rows.next();
                if (following.getUTF8String(3).equals(path) && chunkOf(file, following.getLong(4)) == chunk) {
                    head = following;
                    return true;
                }
                pending = following.copy();
                return false;
            }

            @Override
            public InternalRow next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                InternalRow r = head;
                head = null;
                return r;
            }
        };
        // Sized to the chunk (at most batchSize rows), so this reads it whole into ids and labels of its exact
        // size: sized to batchSize, a chunk of a 1 MiB Fashion-MNIST row group (about 650 rows) was then copied
        // again.
        long[] starts = chunkStarts.get(file);
        int size = (int) (starts[chunk + 1] - starts[chunk]);
        if (features.length < (long) size * width) {
            // A quarter more than this chunk: chunks vary by a few rows, and each growth is a new array.
            features = new float[Math.min(size + size / 4, batchSize) * width];
        }
        return Rows.takeInternal(inChunk, size, width, features);
    }
}
