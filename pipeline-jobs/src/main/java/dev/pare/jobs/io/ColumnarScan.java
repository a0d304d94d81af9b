package dev.pare.jobs.io;

import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.CreateNamedStruct;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GetStructField;
import org.apache.spark.sql.catalyst.expressions.KnownNotNull;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import scala.collection.JavaConverters;

/**
 * The rows of a file scan read from its column batches, without Spark's conversion to rows.
 *
 * <p>Spark turns a vectorized Parquet scan's column batches into rows by copying each row, its
 * features array too, into an {@code UnsafeRow}; Pare's tasks then copy the features again into
 * their batch arrays. Here each column batch is seen as rows ({@link ColumnarBatch#rowIterator}) whose
 * features are views of the batch's column: a task copies the features it uses once, and none of the
 * rows it skips (calibrate's sampling). In a warm {@code local[2]} JVM, reading Fashion-MNIST's 60k
 * rows and copying every row's features took 310-380 ms through rows and 220-250 ms this way.
 *
 * <p>This applies when the query is the scan itself with columns selected, renamed or cast to their
 * own type, and Spark reads it in column batches (Parquet's vectorized reader, on by default); any
 * other plan (a filter, a join, a real cast, the row-based reader) is read through Spark's rows, as
 * before. The rows of a column batch are valid until the iterator moves past the batch's last row:
 * read each row before asking for the next, or {@code copy()} it.
 */
public final class ColumnarScan {
    private ColumnarScan() {}

    /**
     * The internal rows of {@code df} (rows of {@code featureLength} features), its file scans planned
     * by {@link Scans#planned}: from the column batches of its scan when {@link #of} finds it one,
     * otherwise from Spark's rows.
     */
    public static JavaRDD<InternalRow> rows(Dataset<Row> df, long featureLength) {
        return planned(df, featureLength).rows();
    }

    /**
     * {@code df} planned once (as {@link #rows} plans it) for its tasks' rows and for reading one of its
     * columns on the driver ({@link Planned#columnOnDriver}): a second query for that column (calibrate's
     * ids) would be planned again, 0.2-0.3 s of a fresh driver's Catalyst.
     */
    public static Planned planned(Dataset<Row> df, long featureLength) {
        return Scans.planned(df.sparkSession(), featureLength, () -> {
            SparkPlan plan = df.queryExecution().executedPlan();
            Optional<Columns> columns = of(plan);
            return new Planned(columns.map(ColumnarScan::rows).orElseGet(() -> df.queryExecution().toRdd()
                    .toJavaRDD()), columns.orElse(null));
        });
    }

    /** A query planned by {@link #planned}. */
    public static final class Planned {
        private final JavaRDD<InternalRow> rows;
        private final Columns columns;

        private Planned(JavaRDD<InternalRow> rows, Columns columns) {
            this.rows = rows;
            this.columns = columns;
        }

        /** The query's rows, as {@link ColumnarScan#rows} gives them. */
        public JavaRDD<InternalRow> rows() {
            return rows;
        }

        /**
         * Column {@code column} of the query's rows read on the calling thread with no Spark job, each row a
         * one-column view valid until the next, in the order {@link ColumnarScan#onDriver} gives; empty where
         * {@code onDriver} would be (no column batches of a scan, or not Pare's reader). Close the result when done.
         */
        public Optional<DriverRows> columnOnDriver(int column) {
            if (columns == null) {
                return Optional.empty();
            }
            int scanColumn = columns.ordinals()[column];
            return ParquetExampleScan.onDriver(columns.scan(), scanColumn)
                    .map(b -> new DriverRows(b, new int[] {0}));
        }
    }

    /**
     * The internal rows of {@code df} read on the calling thread with no Spark job, when {@link #of} finds
     * its scan and Pare's reader reads it ({@link ParquetExampleScan}); empty otherwise. The rows come in
     * partition order, as the tasks of {@link #rows} read them, and each is a view valid until the next:
     * copy what is kept. Close the result when done.
     */
    public static Optional<DriverRows> onDriver(Dataset<Row> df, long featureLength) {
        return Scans.planned(df.sparkSession(), featureLength, () -> of(df.queryExecution().executedPlan())
                .flatMap(c -> ParquetExampleScan.onDriver(c.scan()).map(b -> new DriverRows(b, c.ordinals()))));
    }

    /** A scan's rows read on the driver ({@link #onDriver}). */
    public static final class DriverRows implements Iterator<InternalRow>, AutoCloseable {
        private final ParquetExampleScan.FileBatches batches;
        private final BatchRows rows;

        private DriverRows(ParquetExampleScan.FileBatches batches, int[] ordinals) {
            this.batches = batches;
            this.rows = new BatchRows(batches, ordinals);
        }

        /** The number of files the scan reads (a file split in several partitions counts once). */
        public int files() {
            return batches.files();
        }

        /** The number of rows the scan reads, from the files' footers, before any row is read. */
        public long rows() {
            return batches.rows();
        }

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public InternalRow next() {
            return rows.next();
        }

        @Override
        public void close() {
            batches.close();
        }
    }

    /**
     * The scan under {@code plan} and, for each of {@code plan}'s output columns, the index of the
     * scan column it is; empty when {@code plan} computes anything else or its scan does not produce
     * column batches.
     */
    static Optional<Columns> of(SparkPlan plan) {
        Map<ExprId, Expression> defined = new HashMap<>();
        SparkPlan node = plan;
        while (!(node instanceof FileSourceScanExec)) {
            if (node instanceof WholeStageCodegenExec w) {
                node = w.child();
            } else if (node instanceof InputAdapter a) {
                node = a.child();
            } else if (node instanceof ColumnarToRowExec c) {
                node = c.child();
            } else if (node instanceof ProjectExec p) {
                for (NamedExpression e : JavaConverters.seqAsJavaList(p.projectList())) {
                    if (e instanceof Alias a) {
                        defined.put(a.exprId(), a.child());
                    }
                }
                node = p.child();
            } else {
                return Optional.empty();
            }
        }
        FileSourceScanExec scan = (FileSourceScanExec) node;
        if (!scan.supportsColumnar()) {
            return Optional.empty();
        }
        List<Attribute> scanColumns = JavaConverters.seqAsJavaList(scan.output());
        List<Attribute> wanted = JavaConverters.seqAsJavaList(plan.output());
        int[] ordinals = new int[wanted.size()];
        for (int i = 0; i < ordinals.length; i++) {
            Expression source = resolve(wanted.get(i), defined);
            ordinals[i] = -1;
            if (source instanceof AttributeReference a) {
                for (int j = 0; j < scanColumns.size(); j++) {
                    if (scanColumns.get(j).exprId().equals(a.exprId())
                            && sameType(scanColumns.get(j).dataType(), wanted.get(i).dataType())) {
                        ordinals[i] = j;
                    }
                }
            }
            if (ordinals[i] < 0) {
                return Optional.empty();
            }
        }
        return Optional.of(new Columns(scan, ordinals));
    }

    /** A scan and the columns of its batches that make up the query's rows, in order. */
    record Columns(FileSourceScanExec scan, int[] ordinals) {}

    /**
     * What {@code e} reads, through aliases, casts of a value to its own type, non-null markers and
     * the fields of structs built in the plan (Spark's {@code _metadata} columns); null for anything
     * that computes.
     */
    private static Expression resolve(Expression e, Map<ExprId, Expression> defined) {
        if (e instanceof Alias a) {
            return resolve(a.child(), defined);
        }
        if (e instanceof AttributeReference a) {
            Expression d = defined.get(a.exprId());
            return d == null ? a : resolve(d, defined);
        }
        if (e instanceof KnownNotNull k) {
            return resolve(k.child(), defined);
        }
        if (e instanceof Cast c) {
            return sameType(c.child().dataType(), c.dataType()) ? resolve(c.child(), defined) : null;
        }
        if (e instanceof GetStructField g) {
            Expression struct = resolve(g.child(), defined);
            if (struct instanceof CreateNamedStruct s) {
                return resolve(s.valExprs().apply(g.ordinal()), defined);
            }
        }
        if (e instanceof CreateNamedStruct) {
            return e;
        }
        return null;
    }

    /** The same type, but for whether an array may hold nulls (what a reading copy leaves unchanged). */
    private static boolean sameType(DataType a, DataType b) {
        if (a instanceof ArrayType x && b instanceof ArrayType y) {
            return sameType(x.elementType(), y.elementType());
        }
        return a.equals(b);
    }

    private static JavaRDD<InternalRow> rows(Columns columns) {
        int[] ordinals = columns.ordinals();
        JavaRDD<ColumnarBatch> batches = ParquetExampleScan.batches(columns.scan())
                .orElseGet(() -> columns.scan().executeColumnar().toJavaRDD());
        return batches.mapPartitions(b -> new BatchRows(b, ordinals));
    }

    /** The rows of consecutive column batches, with the columns at {@code ordinals}. */
    static final class BatchRows implements Iterator<InternalRow> {
        private final Iterator<ColumnarBatch> batches;
        private final int[] ordinals;
        private Iterator<InternalRow> rows = Collections.emptyIterator();

        BatchRows(Iterator<ColumnarBatch> batches, int[] ordinals) {
            this.batches = batches;
            this.ordinals = ordinals;
        }

        @Override
        public boolean hasNext() {
            // The scan refills its batch when asked for the next one: only once this one's rows are read.
            while (!rows.hasNext()) {
                if (!batches.hasNext()) {
                    return false;
                }
                ColumnarBatch b = batches.next();
                ColumnVector[] picked = new ColumnVector[ordinals.length];
                for (int i = 0; i < ordinals.length; i++) {
                    picked[i] = b.column(ordinals[i]);
                }
                rows = new ColumnarBatch(picked, b.numRows()).rowIterator();
            }
            return true;
        }

        @Override
        public InternalRow next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return rows.next();
        }
    }
}
