package dev.pare.jobs.io;

import java.io.Serializable;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.util.CollectionAccumulator;
import scala.Tuple2;

/**
 * The {@link ExampleChecks} of every row that a stage's own pass over a table reads for its work (calibrate's
 * sample, score-data's scores), so that the table is read once for both: each task checks its partition's rows
 * as they go by ({@link #checked}) and reports the partition's checks through an accumulator; the driver
 * merges them in partition order after the job ({@link #merged}). Rows the work cannot take (a null id,
 * features or label, another feature count, a label out of range, NaN or infinite features) are checked and
 * left out: the checks then fail the stage, naming them, before its output is committed.
 */
public final class PartitionChecks implements Serializable {
    private static final long serialVersionUID = 1L;
    private final CollectionAccumulator<Tuple2<Integer, ExampleChecks>> reported;
    private final long featureLength;
    private final int numClasses;

    private PartitionChecks(CollectionAccumulator<Tuple2<Integer, ExampleChecks>> reported, long featureLength,
                            int numClasses) {
        this.reported = reported;
        this.featureLength = featureLength;
        this.numClasses = numClasses;
    }

    /** Checks for rows of {@code featureLength} features and labels in {@code [0, numClasses)}, reported as {@code name}. */
    public static PartitionChecks register(SparkContext sc, String name, long featureLength, int numClasses) {
        return new PartitionChecks(sc.collectionAccumulator(name), featureLength, numClasses);
    }

    /** No rows checked yet: what {@link #merged} adds the partitions' checks to. */
    public ExampleChecks empty() {
        return new ExampleChecks(featureLength, numClasses);
    }

    /**
     * In a task: the rows of its partition that the work can take, each row checked on the way; the partition's
     * checks are reported once {@code rows} runs out.
     */
    public Iterator<InternalRow> checked(Iterator<InternalRow> rows) {
        return new Iterator<>() {
            private ExampleChecks checks = empty();
            private InternalRow next;

            @Override
            public boolean hasNext() {
                while (next == null && rows.hasNext()) {
                    InternalRow r = rows.next();
                    if (checks.add(r)) {
                        next = r;
                    }
                }
                if (next == null && checks != null) {
                    reported.add(new Tuple2<>(TaskContext.getPartitionId(), checks));
                    checks = null;
                }
                return next != null;
            }

            @Override
            public InternalRow next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                InternalRow r = next;
                next = null;
                return r;
            }
        };
    }

    /**
     * On the driver, after the job that read every row through {@link #checked}: the checks of its
     * {@code partitions} partitions merged in partition order. A partition computed twice (a retried task, a lost
     * executor) checked the same rows, and counts once.
     *
     * @param pass what read the rows, for the message when a partition did not report
     */
    public ExampleChecks merged(int partitions, String pass) {
        return mergeInto(empty(), partitions, pass);
    }

    /** {@link #merged}, added to {@code all} (checks of the same feature length and classes), which is returned. */
    public ExampleChecks mergeInto(ExampleChecks all, int partitions, String pass) {
        TreeMap<Integer, ExampleChecks> byPartition = new TreeMap<>();
        for (Tuple2<Integer, ExampleChecks> part : reported.value()) {
            byPartition.putIfAbsent(part._1(), part._2());
        }
        if (byPartition.size() != partitions) {
            throw new IllegalStateException(pass + " reported the checks of " + byPartition.size() + " of the table's "
                    + partitions + " partitions");
        }
        byPartition.values().forEach(all::merge);
        return all;
    }
}
