package dev.pare.jobs.io;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.spark.Partition;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat;
import org.apache.spark.sql.execution.vectorized.ConstantColumnVector;
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector;
import org.apache.spark.sql.execution.vectorized.WritableColumnVector;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.unsafe.types.UTF8String;
import scala.collection.JavaConverters;
import scala.collection.Seq;
import scala.reflect.ClassTag$;

/**
 * A Parquet scan of an example table read by Pare instead of Spark's vectorized reader: the same
 * splits ({@link Scans#partitions}: pieces of equal bytes, each file's row groups whose middle lies in a piece),
 * the same column batches, the same values.
 *
 * <p>Why: Spark 3.5 assembles a list column from its repetition and definition levels value by
 * value ({@code ParquetColumnVector.getCollectionSize}, {@code getNextCollectionStart}): reading
 * Fashion-MNIST's 60k rows of 784 floats cost about 25 ns per float in a warm JVM, and decoding was
 * 13-15% of a LeNet-5 {@code score-data} task's time. {@link ParquetColumn} decodes the levels and
 * values of a page in bulk: 6.5-7.2 ns per float in one warm thread; a table read through
 * {@link ColumnarScan} took 0.43-0.62 of Spark's time in five of six runs of
 * {@code dev.pare.jobs.bench.ScanBenchmark} on 2 cores (the sixth: the same time).
 *
 * <p>It reads a scan whose columns are {@code long}, {@code int} or {@code array<float>} data
 * columns and the {@code _metadata} fields {@code file_path} and {@code row_index}, of a Parquet table
 * without partition columns or bucketing, with Spark's {@code ignoreCorruptFiles},
 * {@code ignoreMissingFiles} and field-id reads off. Any other scan is Spark's to read.
 * {@value #SETTING} = {@code spark} leaves every scan to Spark. A file whose column is stored in
 * another physical type than the table's schema says (a {@code double} list for {@code array<float>})
 * fails the task with a message naming the file and column, as Spark's reader does.
 */
public final class ParquetExampleScan {
    /** Spark setting: {@code pare} (default) reads example scans here, {@code spark} with Spark's reader. */
    public static final String SETTING = "spark.pare.parquetReader";

    private ParquetExampleScan() {}

    /** What one output column of the scan is. */
    enum Source {
        LONG, INT, FLOAT_LIST, ROW_INDEX, FILE_PATH
    }

    /** An output column: its source and, for a data column, its name in the table's schema. */
    record Column(Source source, String name) implements Serializable {}

    /**
     * Decodes the float-list column {@code column} of every row group of {@code file}, as a scan does,
     * batch after batch of {@code batchRows} rows into one reused vector, with no Spark job around it;
     * returns the number of floats and adds each batch's count and last float's bits to {@code checksum[0]}.
     * For benchmarks of the
     * decoding alone ({@code ScanBenchmark --decode}).
     */
    public static long decodeFloatLists(Configuration conf, Path file, String column, int batchRows, long[] checksum)
            throws IOException {
        long floats = 0;
        OnHeapColumnVector out = new OnHeapColumnVector(batchRows, DataTypes.createArrayType(DataTypes.FloatType));
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
            MessageType schema = reader.getFileMetaData().getSchema();
            if (!schema.containsField(column)) {
                throw new IOException(file + " has no column '" + column + "'");
            }
            FileBatches.Leaf leaf = FileBatches.leaf(schema, schema.getType(column), new Column(Source.FLOAT_LIST, column));
            reader.setRequestedSchema(new MessageType(schema.getName(), List.of(schema.getType(column))));
            ParquetColumn chunk = null;
            for (PageReadStore pages = reader.readNextRowGroup(); pages != null; pages = reader.readNextRowGroup()) {
                chunk = new ParquetColumn(leaf.column(), pages.getPageReader(leaf.column()), leaf.kind(),
                        leaf.unsigned(), leaf.elementDef(), leaf.listDef(), chunk);
                for (long done = 0; done < pages.getRowCount(); done += batchRows) {
                    int n = (int) Math.min(batchRows, pages.getRowCount() - done);
                    out.reset();
                    chunk.read(n, out, 0);
                    WritableColumnVector values = out.arrayData();
                    int count = values.getElementsAppended();
                    if (count > 0) {
                        checksum[0] += count + Float.floatToRawIntBits(values.getFloat(count - 1));
                    }
                    floats += count;
                }
            }
        } finally {
            out.close();
        }
        return floats;
    }

    /**
     * The column batches of {@code scan} read by Pare, with the scan's partitions; empty when the
     * scan holds anything this reader does not read, or {@value #SETTING} says {@code spark}.
     *
     * @throws BadInputException when {@value #SETTING} is neither {@code pare} nor {@code spark}
     */
    public static Optional<JavaRDD<ColumnarBatch>> batches(FileSourceScanExec scan) {
        SparkContext sc = scan.relation().sparkSession().sparkContext();
        return reading(scan, true).map(r -> new BatchRdd(sc, Scans.partitions(scan), r).toJavaRDD());
    }

    /**
     * The column batches of every partition of {@code scan}, in partition order, read on the calling thread
     * with no Spark job: what the tasks of {@link #batches} read. Empty where {@link #batches} is; close the
     * result when done.
     */
    static Optional<FileBatches> onDriver(FileSourceScanExec scan) {
        return reading(scan, false).map(r -> driverBatches(scan, r));
    }

    /** {@link #onDriver}, reading only the scan's output column {@code column}: batches of one column. */
    static Optional<FileBatches> onDriver(FileSourceScanExec scan, int column) {
        return reading(scan, false).map(r -> driverBatches(scan, new Reading(List.of(r.columns().get(column)),
                r.batchRows(), r.caseSensitive(), r.conf())));
    }

    private static FileBatches driverBatches(FileSourceScanExec scan, Reading r) {
        List<PartitionedFile> files = new ArrayList<>();
        for (Partition p : Scans.partitions(scan)) {
            files.addAll(Arrays.asList(((FilePartition) p).files()));
        }
        return new FileBatches(files.toArray(new PartitionedFile[0]), r, null);
    }

    /**
     * How this reader reads {@code scan}; empty when it does not (as {@link #batches} says). The Hadoop configuration
     * is broadcast when tasks will read ({@code forTasks}), not for reads on the driver.
     */
    private static Optional<Reading> reading(FileSourceScanExec scan, boolean forTasks) {
        // The session's settings start as the context's: pare's spark.conf section sets both.
        if (!enabled(scan.relation().sparkSession().conf().get(SETTING, null))) {
            return Optional.empty();
        }
        Optional<List<Column>> columns = columns(scan);
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        SQLConf conf = scan.relation().sparkSession().sessionState().conf();
        if (conf.ignoreCorruptFiles() || conf.ignoreMissingFiles() || conf.parquetFieldIdReadEnabled()) {
            return Optional.empty();
        }
        Configuration hadoop = scan.relation().sparkSession().sessionState()
                .newHadoopConfWithOptions(scan.relation().options());
        return Optional.of(new Reading(columns.get(), conf.parquetVectorizedReaderBatchSize(),
                conf.caseSensitiveAnalysis(), forTasks ? BroadcastConf.forTasks(scan.relation().sparkSession(), hadoop)
                        : BroadcastConf.onDriver(hadoop)));
    }

    /** True for {@code pare} and unset, false for {@code spark}. */
    static boolean enabled(String value) {
        if (value == null || value.trim().equalsIgnoreCase("pare")) {
            return true;
        }
        if (value.trim().equalsIgnoreCase("spark")) {
            return false;
        }
        throw new BadInputException(SETTING + " must be 'pare' (Pare's reader for example tables) or 'spark'"
                + " (Spark's vectorized reader), was '" + value + "'");
    }

    /** The scan's output columns as this reader reads them; empty when one is not for it. */
    static Optional<List<Column>> columns(FileSourceScanExec scan) {
        if (!(scan.relation().fileFormat() instanceof ParquetFileFormat) || !scan.relation().partitionSchema().isEmpty()
                || scan.bucketedScan() || !scan.dataFilters().isEmpty()) {
            return Optional.empty();
        }
        StructType required = scan.requiredSchema();
        List<Column> columns = new ArrayList<>();
        for (Attribute a : JavaConverters.seqAsJavaList(scan.output())) {
            var metadata = a.metadata();
            if (metadata.contains("__metadata_col")) {
                String field = metadata.getString("__metadata_col");
                if (field.equals("row_index") && a.dataType().equals(DataTypes.LongType)) {
                    columns.add(new Column(Source.ROW_INDEX, null));
                } else if (field.equals("file_path") && a.dataType().equals(DataTypes.StringType)) {
                    columns.add(new Column(Source.FILE_PATH, null));
                } else {
                    return Optional.empty();
                }
                continue;
            }
            if (!required.getFieldIndex(a.name()).isDefined()) {
                return Optional.empty();
            }
            DataType t = a.dataType();
            if (t.equals(DataTypes.LongType)) {
                columns.add(new Column(Source.LONG, a.name()));
            } else if (t.equals(DataTypes.IntegerType)) {
                columns.add(new Column(Source.INT, a.name()));
            } else if (t instanceof ArrayType arr && arr.elementType().equals(DataTypes.FloatType)) {
                columns.add(new Column(Source.FLOAT_LIST, a.name()));
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(columns);
    }

    /** What a task needs to read its files. */
    record Reading(List<Column> columns, int batchRows, boolean caseSensitive, BroadcastConf conf)
            implements Serializable {}

    /** The scan's partitions, each read by {@link FileBatches}. */
    static final class BatchRdd extends RDD<ColumnarBatch> {
        private static final long serialVersionUID = 1L;
        private final Partition[] partitions;
        private final Reading reading;

        @SuppressWarnings("unchecked")
        BatchRdd(SparkContext sc, Partition[] partitions, Reading reading) {
            super(sc, (Seq<org.apache.spark.Dependency<?>>) (Seq<?>) scala.collection.immutable.Nil$.MODULE$,
                    ClassTag$.MODULE$.apply(ColumnarBatch.class));
            this.partitions = partitions;
            this.reading = reading;
        }

        @Override
        public scala.collection.Iterator<ColumnarBatch> compute(Partition split, TaskContext context) {
            FileBatches batches = new FileBatches(((FilePartition) split).files(), reading, context);
            context.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> batches.close());
            return JavaConverters.asScalaIterator(batches);
        }

        @Override
        public Partition[] getPartitions() {
            return partitions;
        }

        @Override
        public Seq<String> getPreferredLocations(Partition split) {
            return JavaConverters.asScalaBuffer(Arrays.asList(((FilePartition) split).preferredLocations()))
                    .toSeq();
        }
    }

    /**
     * The column batches of a partition's files, in order, at most {@code batchRows} rows each; with a null
     * task context (read on the driver), no input metrics.
     */
    static final class FileBatches implements Iterator<ColumnarBatch>, AutoCloseable {
        /** The footers {@link #rows} reads at a time. */
        static final int FOOTER_THREADS = 8;
        private final PartitionedFile[] files;
        private final Reading reading;
        private final TaskContext context;
        private final WritableColumnVector[] vectors;
        private final ColumnVector[] out;
        private int nextFile;
        private ParquetFileReader reader;
        private String path;
        private Iterator<BlockMetaData> blocks;
        private Plan chunkPlan;
        private ParquetColumn[] chunk;
        private long chunkRows;
        private long chunkRead;
        private long rowIndexOffset;

        FileBatches(PartitionedFile[] files, Reading reading, TaskContext context) {
            this.files = files;
            this.reading = reading;
            this.context = context;
            List<Column> columns = reading.columns();
            vectors = new WritableColumnVector[columns.size()];
            out = new ColumnVector[columns.size()];
            for (int i = 0; i < vectors.length; i++) {
                Source s = columns.get(i).source();
                if (s == Source.FILE_PATH) {
                    continue;
                }
                DataType t = switch (s) {
                    case INT -> DataTypes.IntegerType;
                    case FLOAT_LIST -> DataTypes.createArrayType(DataTypes.FloatType);
                    default -> DataTypes.LongType;
                };
                vectors[i] = new OnHeapColumnVector(reading.batchRows(), t);
                out[i] = vectors[i];
            }
        }

        /** The number of distinct files among the splits read. */
        int files() {
            return (int) Arrays.stream(files).map(PartitionedFile::toPath).distinct().count();
        }

        /**
         * The number of rows the splits read: the rows of the row groups each split's range selects, as
         * reading does, from the files' footers (read {@value #FOOTER_THREADS} at a time: on object stores each
         * is a round trip), before any page is read.
         */
        long rows() {
            if (files.length == 0) {
                return 0;
            }
            Configuration conf = reading.conf().value();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                    Math.min(FOOTER_THREADS, files.length), r -> {
                        Thread t = new Thread(r, "pare-footer-rows");
                        t.setDaemon(true);
                        return t;
                    });
            try {
                List<java.util.concurrent.Future<Long>> counts = new ArrayList<>();
                for (PartitionedFile f : files) {
                    counts.add(pool.submit(() -> splitRows(f, conf)));
                }
                long total = 0;
                for (java.util.concurrent.Future<Long> c : counts) {
                    total += c.get();
                }
                return total;
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof UncheckedIOException u ? u
                        : new IllegalStateException(e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading Parquet footers", e);
            } finally {
                pool.shutdownNow();
            }
        }

        private static long splitRows(PartitionedFile f, Configuration conf) {
            Path p = f.toPath();
            try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(p, conf),
                    HadoopReadOptions.builder(conf, p).withRange(f.start(), f.start() + f.length()).build())) {
                return r.getRecordCount();
            } catch (IOException | RuntimeException e) {
                throw readError(new Path(p.toString()).toUri().toString(), e);
            }
        }

        @Override
        public boolean hasNext() {
            try {
                while (chunk == null || chunkRead == chunkRows) {
                    if (!nextRowGroup()) {
                        return false;
                    }
                }
                return true;
            } catch (IOException | RuntimeException e) {
                throw failure(e);
            }
        }

        @Override
        public ColumnarBatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int n = (int) Math.min(reading.batchRows(), chunkRows - chunkRead);
            try {
                List<Column> columns = reading.columns();
                for (int i = 0; i < vectors.length; i++) {
                    if (vectors[i] != null) {
                        vectors[i].reset();
                    }
                    switch (columns.get(i).source()) {
                        case ROW_INDEX -> {
                            for (int r = 0; r < n; r++) {
                                vectors[i].putLong(r, rowIndexOffset + chunkRead + r);
                            }
                        }
                        case FILE_PATH -> {
                            // Set per file (nextRowGroup).
                        }
                        default -> {
                            if (chunk[i] == null) {
                                vectors[i].putNulls(0, n);
                            } else {
                                chunk[i].read(n, vectors[i], 0);
                            }
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw failure(e);
            }
            chunkRead += n;
            if (context != null) {
                context.taskMetrics().inputMetrics().incRecordsRead(n);
            }
            return new ColumnarBatch(out, n);
        }

        private RuntimeException failure(Exception e) {
            if (e instanceof UncheckedIOException u && u.getMessage() != null
                    && u.getMessage().contains("while reading file")) {
                return u;
            }
            return readError(path, e);
        }

        /** {@code e} as it happened reading file {@code uri}, in the words Spark's readers use ("while reading file"). */
        private static UncheckedIOException readError(String uri, Exception e) {
            return new UncheckedIOException(new IOException("Encountered error while reading file " + uri + ": "
                    + e.getMessage() + " (Pare's Parquet reader; " + SETTING + "=spark reads with Spark's)", e));
        }

        /** Opens the next row group, of this file or the next; false after the last. */
        private boolean nextRowGroup() throws IOException {
            while (reader == null || !blocks.hasNext()) {
                close();
                if (nextFile == files.length) {
                    return false;
                }
                PartitionedFile f = files[nextFile++];
                Path p = f.toPath();
                // Spark's _metadata.file_path: the path re-parsed from its text, as a URI (file:/a%20b, not file:///a%20b).
                path = new Path(p.toString()).toUri().toString();
                for (int i = 0; i < out.length; i++) {
                    if (reading.columns().get(i).source() == Source.FILE_PATH) {
                        ConstantColumnVector c = new ConstantColumnVector(reading.batchRows(), DataTypes.StringType);
                        c.setUtf8String(UTF8String.fromString(path));
                        out[i] = c;
                    }
                }
                Configuration conf = reading.conf().value();
                reader = ParquetFileReader.open(HadoopInputFile.fromPath(p, conf),
                        HadoopReadOptions.builder(conf, p).withRange(f.start(), f.start() + f.length()).build());
                blocks = reader.getRowGroups().iterator();
                chunkPlan = plan(reader.getFileMetaData().getSchema());
                reader.setRequestedSchema(chunkPlan.requested());
            }
            BlockMetaData block = blocks.next();
            PageReadStore pages = reader.readNextRowGroup();
            if (pages == null) {
                throw new IOException("the footer lists more row groups than the file holds");
            }
            long bytes = 0;
            for (ColumnChunkMetaData c : block.getColumns()) {
                if (chunkPlan.requested().containsPath(c.getPath().toArray())) {
                    bytes += c.getTotalSize();
                }
            }
            if (context != null) {
                context.taskMetrics().inputMetrics().incBytesRead(bytes);
            }
            chunkRows = pages.getRowCount();
            chunkRead = 0;
            rowIndexOffset = pages.getRowIndexOffset().orElse(-1L);
            ParquetColumn[] previous = chunk == null ? new ParquetColumn[vectors.length] : chunk;
            chunk = new ParquetColumn[vectors.length];
            List<Column> columns = reading.columns();
            for (int i = 0; i < chunk.length; i++) {
                Leaf leaf = chunkPlan.leaves()[i];
                if (leaf != null) {
                    chunk[i] = new ParquetColumn(leaf.column(), pages.getPageReader(leaf.column()), leaf.kind(),
                            leaf.unsigned(), leaf.elementDef(), leaf.listDef(), previous[i]);
                }
                if (columns.get(i).source() == Source.ROW_INDEX && rowIndexOffset < 0) {
                    throw new IOException("no row index offset for a row group (Parquet " + block + ")");
                }
            }
            return true;
        }

        /** A file's leaf for each output data column (null: not in the file, read as nulls). */
        private record Plan(Leaf[] leaves, MessageType requested) {}

        record Leaf(ColumnDescriptor column, ParquetColumn.Kind kind, boolean unsigned, int elementDef,
                    int listDef) {}

        private Plan plan(MessageType schema) throws IOException {
            List<Column> columns = reading.columns();
            Leaf[] leaves = new Leaf[columns.size()];
            List<Type> fields = new ArrayList<>();
            for (int i = 0; i < leaves.length; i++) {
                Column c = columns.get(i);
                if (c.name() == null) {
                    continue;
                }
                Type field = field(schema, c.name());
                if (field == null) {
                    continue;
                }
                if (!fields.contains(field)) {
                    fields.add(field);
                }
                leaves[i] = leaf(schema, field, c);
            }
            return new Plan(leaves, new MessageType(schema.getName(), fields));
        }

        /** The top-level field named {@code name}: exactly, or ignoring case when that is unambiguous. */
        private Type field(MessageType schema, String name) throws IOException {
            if (schema.containsField(name)) {
                return schema.getType(name);
            }
            if (reading.caseSensitive()) {
                return null;
            }
            Type found = null;
            for (Type t : schema.getFields()) {
                if (t.getName().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                    if (found != null) {
                        throw new IOException("column '" + name + "' matches both '" + found.getName() + "' and '"
                                + t.getName() + "' ignoring case");
                    }
                    found = t;
                }
            }
            return found;
        }

        static Leaf leaf(MessageType schema, Type field, Column c) throws IOException {
            List<ColumnDescriptor> below = new ArrayList<>();
            for (ColumnDescriptor d : schema.getColumns()) {
                if (d.getPath()[0].equals(field.getName())) {
                    below.add(d);
                }
            }
            String expected = switch (c.source()) {
                case LONG -> "a long (INT64 or INT32)";
                case INT -> "an int (INT32)";
                default -> "a list of FLOAT";
            };
            ColumnDescriptor d = below.size() == 1 ? below.get(0) : null;
            PrimitiveTypeName physical = d == null ? null : d.getPrimitiveType().getPrimitiveTypeName();
            boolean ok = switch (c.source()) {
                case LONG -> d != null && d.getMaxRepetitionLevel() == 0
                        && (physical == PrimitiveTypeName.INT64 || physical == PrimitiveTypeName.INT32);
                case INT -> d != null && d.getMaxRepetitionLevel() == 0 && physical == PrimitiveTypeName.INT32;
                default -> d != null && d.getMaxRepetitionLevel() == 1 && physical == PrimitiveTypeName.FLOAT;
            };
            if (!ok) {
                throw new IOException("column '" + field.getName() + "' is stored as " + field.toString().trim()
                        + ", where the table's schema asks for " + expected);
            }
            if (c.source() != Source.FLOAT_LIST) {
                boolean unsigned = d.getPrimitiveType().getLogicalTypeAnnotation()
                        instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation i && !i.isSigned();
                return new Leaf(d, c.source() == Source.LONG ? ParquetColumn.Kind.LONG : ParquetColumn.Kind.INT,
                        unsigned, 0, 0);
            }
            // The repeated node's definition level: an entry below it is an element (null or not).
            String[] path = d.getPath();
            int elementDef = -1;
            for (int k = 0; k < path.length; k++) {
                String[] prefix = Arrays.copyOf(path, k + 1);
                if (schema.getType(prefix).isRepetition(Type.Repetition.REPEATED)) {
                    elementDef = schema.getMaxDefinitionLevel(prefix);
                    break;
                }
            }
            int listDef = field.isRepetition(Type.Repetition.OPTIONAL) ? 1 : 0;
            return new Leaf(d, ParquetColumn.Kind.FLOAT_LIST, false, elementDef, listDef);
        }

        @Override
        public void close() {
            if (reader != null) {
                try {
                    reader.close();
                } catch (IOException e) {
                    // Read to the end already: nothing is lost by a failed close.
                }
                reader = null;
                chunk = null;
            }
        }
    }
}
