package dev.pare.jobs.io;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.OutputCommitter;
import org.apache.hadoop.mapreduce.RecordWriter;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnWriteStore;
import org.apache.parquet.column.ColumnWriter;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.hadoop.CodecFactory;
import org.apache.parquet.hadoop.ColumnChunkPageWriteStore;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetOutputCommitter;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Hadoop output format whose records are batches of rows that put their own values into Parquet's
 * column writers ({@link Batch}): the file, its schema and footer are those of Spark SQL's writer for the
 * same rows (its {@code ParquetWriteSupport} gives the Parquet schema and the footer's metadata), without a
 * Spark row, a boxed value or a record consumer per row.
 *
 * <p>Why: {@code score-data}'s tasks wrote their scores through Spark's {@code ParquetWriteSupport},
 * which calls a Scala closure per field and per array element and goes through parquet-mr's record
 * consumer (start and end of every field and group): 0.45 s of 3.6 s of task CPU for 60k rows of
 * LeNet-300-100 in a profile, most of it in code the JIT had not compiled with its second compiler yet
 * (stage commands raise its thresholds, {@code JitThresholds}).
 *
 * <p>Flat schemas only: every field non-null, of type long, int, double, float, or an array of
 * non-null floats. The Parquet settings read from the job's configuration are parquet-mr's: block
 * (row group) size, page size and its checks, page row count limit, writer version, compression,
 * dictionaries and their page size, column index and statistics truncation, page checksums, padding,
 * bloom filters and dictionaries for all columns or none, and a file encryption factory. There is no
 * memory manager sharing the heap between writers: one writer per task.
 */
public final class ParquetBatchFormat extends FileOutputFormat<Void, ParquetBatchFormat.Batch> {
    /** Rows that write themselves: {@link #putRow} puts every field of row {@code row} into {@code sink}. */
    public interface Batch {
        int size();

        void putRow(int row, RowSink sink);
    }

    private OutputCommitter committer;

    /**
     * Refuses a schema this format cannot write, naming the field: what every writer checks again
     * on the executors, for a driver that wants the error before its job starts.
     */
    public static void check(StructType schema) {
        if (schema.fields().length > 64) {
            throw new IllegalArgumentException("at most 64 fields can be written as batches, not "
                    + schema.fields().length);
        }
        for (StructField f : schema.fields()) {
            kind(f);
        }
    }

    static byte kind(StructField f) {
        DataType t = f.dataType();
        byte kind = t.equals(DataTypes.LongType) ? RowSink.LONG : t.equals(DataTypes.IntegerType) ? RowSink.INT
                : t.equals(DataTypes.DoubleType) ? RowSink.DOUBLE : t.equals(DataTypes.FloatType) ? RowSink.FLOAT
                : t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType) && !a.containsNull()
                ? RowSink.FLOATS : 0;
        if (kind == 0 || f.nullable()) {
            throw new IllegalArgumentException("field " + f.name() + " (" + t.simpleString()
                    + (f.nullable() ? ", nullable" : "") + ") cannot be written as batches: only non-null long, int,"
                    + " double, float and array<float> (non-null elements) can");
        }
        return kind;
    }

    @Override
    public RecordWriter<Void, Batch> getRecordWriter(TaskAttemptContext task) throws IOException {
        Configuration conf = task.getConfiguration();
        CompressionCodecName codec = ParquetOutputFormat.getCompression(conf);
        return new Writer(conf, getDefaultWorkFile(task, codec.getExtension() + ".parquet"), codec);
    }

    /** What {@code ParquetOutputFormat} commits with (it writes summary files when they are asked for). */
    @Override
    public synchronized OutputCommitter getOutputCommitter(TaskAttemptContext task) throws IOException {
        if (committer == null) {
            committer = new ParquetOutputCommitter(getOutputPath(task), task);
        }
        return committer;
    }

    /**
     * Where a batch puts its rows: one call per field and row, in any order, then the next row. Field
     * numbers are those of the Spark schema. A value of the wrong type or a field put twice is refused
     * before it is written, a field left out when the row ends; either fails the task, whose file is then
     * closed without being ended (its committer deletes it).
     */
    public static final class RowSink {
        static final byte LONG = 1;
        static final byte INT = 2;
        static final byte DOUBLE = 3;
        static final byte FLOAT = 4;
        static final byte FLOATS = 5;

        private final String[] names;
        private final byte[] kinds;
        private final int[] repeated;
        private final int[] defined;
        private final long all;
        private ColumnWriter[] columns;
        private long put;

        RowSink(StructType schema, List<ColumnDescriptor> leaves) {
            check(schema);
            StructField[] fields = schema.fields();
            if (leaves.size() != fields.length) {
                throw new IllegalArgumentException("Parquet schema has " + leaves.size() + " columns for "
                        + fields.length + " fields");
            }
            names = schema.fieldNames();
            kinds = new byte[fields.length];
            repeated = new int[fields.length];
            defined = new int[fields.length];
            for (int i = 0; i < fields.length; i++) {
                kinds[i] = kind(fields[i]);
                ColumnDescriptor leaf = leaves.get(i);
                if (!leaf.getPath()[0].equals(fields[i].name()) || leaf.getPrimitiveType().getPrimitiveTypeName()
                        != parquetType(kinds[i])) {
                    throw new IllegalArgumentException("Parquet column " + String.join(".", leaf.getPath()) + " ("
                            + leaf.getPrimitiveType() + ") does not hold field " + fields[i].name());
                }
                repeated[i] = leaf.getMaxRepetitionLevel();
                defined[i] = leaf.getMaxDefinitionLevel();
            }
            all = fields.length == 64 ? -1L : (1L << fields.length) - 1;
        }

        private static PrimitiveTypeName parquetType(byte kind) {
            return switch (kind) {
                case LONG -> PrimitiveTypeName.INT64;
                case INT -> PrimitiveTypeName.INT32;
                case DOUBLE -> PrimitiveTypeName.DOUBLE;
                default -> PrimitiveTypeName.FLOAT;
            };
        }

        void use(ColumnWriter[] writers) {
            columns = writers;
        }

        private ColumnWriter column(int field, byte kind) {
            long bit = 1L << field;
            if (kinds[field] != kind || (put & bit) != 0) {
                throw new IllegalStateException((put & bit) != 0 ? "field " + names[field] + " put twice in a row"
                        : "field " + names[field] + " is not of the type put");
            }
            put |= bit;
            return columns[field];
        }

        public void putLong(int field, long value) {
            column(field, LONG).write(value, 0, defined[field]);
        }

        public void putInt(int field, int value) {
            column(field, INT).write(value, 0, defined[field]);
        }

        public void putDouble(int field, double value) {
            column(field, DOUBLE).write(value, 0, defined[field]);
        }

        public void putFloat(int field, float value) {
            column(field, FLOAT).write(value, 0, defined[field]);
        }

        /** An array field's value: {@code count} floats of {@code values} from {@code from}. */
        public void putFloats(int field, float[] values, int from, int count) {
            ColumnWriter c = column(field, FLOATS);
            int d = defined[field];
            if (count == 0) {
                // An empty list: its group is there, the repeated level below it is not.
                c.writeNull(0, d - 1);
                return;
            }
            c.write(values[from], 0, d);
            int r = repeated[field];
            for (int i = from + 1, end = from + count; i < end; i++) {
                c.write(values[i], r, d);
            }
        }

        void endRow() {
            if (put != all) {
                long missing = all & ~put;
                throw new IllegalStateException("field " + names[Long.numberOfTrailingZeros(missing)]
                        + " was not put in a row");
            }
            put = 0;
        }
    }

    /** One file: row groups cut as parquet-mr's own record writer cuts them. */
    static final class Writer extends RecordWriter<Void, Batch> {
        private final Configuration conf;
        private final MessageType schema;
        private final Map<String, String> metadata;
        private final ParquetProperties props;
        private final CodecFactory codecs;
        private final CodecFactory.BytesCompressor compressor;
        private final Opened output;
        private final ParquetFileWriter file;
        private final List<ColumnDescriptor> leaves;
        private final RowSink sink;
        private final long rowGroupSize;
        private long nextRowGroupSize;
        private ColumnChunkPageWriteStore pages;
        private ColumnWriteStore store;
        private int rowGroups;
        private long rows;
        private long rowsAtNextCheck;
        private boolean failed;
        private boolean closed;

        Writer(Configuration conf, Path path, CompressionCodecName codec) throws IOException {
            this.conf = conf;
            ParquetWriteSupport spark = new ParquetWriteSupport();
            WriteSupport.WriteContext context = spark.init(conf);
            schema = context.getSchema();
            metadata = new HashMap<>(context.getExtraMetaData());
            if (spark.getName() != null) {
                metadata.put(ParquetWriter.OBJECT_MODEL_NAME_PROP, spark.getName());
            }
            metadata.putAll(spark.finalizeWrite().getExtraMetaData());
            leaves = schema.getColumns();
            sink = new RowSink((StructType) DataType.fromJson(conf.get(ParquetWriteSupport.SPARK_ROW_SCHEMA())), leaves);
            props = ParquetProperties.builder()
                    .withPageSize(ParquetOutputFormat.getPageSize(conf))
                    .withDictionaryPageSize(ParquetOutputFormat.getDictionaryPageSize(conf))
                    .withDictionaryEncoding(ParquetOutputFormat.getEnableDictionary(conf))
                    .withWriterVersion(ParquetOutputFormat.getWriterVersion(conf))
                    .estimateRowCountForPageSizeCheck(ParquetOutputFormat.getEstimatePageSizeCheck(conf))
                    .withMinRowCountForPageSizeCheck(ParquetOutputFormat.getMinRowCountForPageSizeCheck(conf))
                    .withMaxRowCountForPageSizeCheck(ParquetOutputFormat.getMaxRowCountForPageSizeCheck(conf))
                    .withColumnIndexTruncateLength(conf.getInt(ParquetOutputFormat.COLUMN_INDEX_TRUNCATE_LENGTH,
                            ParquetProperties.DEFAULT_COLUMN_INDEX_TRUNCATE_LENGTH))
                    .withStatisticsTruncateLength(conf.getInt(ParquetOutputFormat.STATISTICS_TRUNCATE_LENGTH,
                            ParquetProperties.DEFAULT_STATISTICS_TRUNCATE_LENGTH))
                    .withMaxBloomFilterBytes(ParquetOutputFormat.getBloomFilterMaxBytes(conf))
                    .withBloomFilterEnabled(ParquetOutputFormat.getBloomFilterEnabled(conf))
                    .withPageRowCountLimit(conf.getInt(ParquetOutputFormat.PAGE_ROW_COUNT_LIMIT,
                            ParquetProperties.DEFAULT_PAGE_ROW_COUNT_LIMIT))
                    .withPageWriteChecksumEnabled(ParquetOutputFormat.getPageWriteChecksumEnabled(conf))
                    .build();
            rowGroupSize = ParquetOutputFormat.getLongBlockSize(conf);
            nextRowGroupSize = rowGroupSize;
            codecs = new CodecFactory(conf, props.getPageSizeThreshold());
            compressor = codecs.getCompressor(codec);
            output = new Opened(HadoopOutputFile.fromPath(path, conf));
            file = new ParquetFileWriter(output, schema, ParquetFileWriter.Mode.CREATE,
                    rowGroupSize, conf.getInt(ParquetOutputFormat.MAX_PADDING_BYTES,
                    ParquetWriter.MAX_PADDING_SIZE_DEFAULT), props.getColumnIndexTruncateLength(),
                    props.getStatisticsTruncateLength(), props.getPageWriteChecksumEnabled(),
                    ParquetOutputFormat.createEncryptionProperties(conf, path, context));
            file.start();
            startRowGroup();
        }

        private void startRowGroup() {
            pages = new ColumnChunkPageWriteStore(compressor, schema, props.getAllocator(),
                    props.getColumnIndexTruncateLength(), props.getPageWriteChecksumEnabled(), file.getEncryptor(),
                    rowGroups);
            store = props.newColumnWriteStore(schema, pages, pages);
            ColumnWriter[] writers = new ColumnWriter[leaves.size()];
            for (int i = 0; i < writers.length; i++) {
                writers[i] = store.getColumnWriter(leaves.get(i));
            }
            sink.use(writers);
            rowsAtNextCheck = props.getMinRowCountForPageSizeCheck();
        }

        @Override
        public void write(Void key, Batch batch) throws IOException {
            boolean written = false;
            try {
                for (int r = 0, n = batch.size(); r < n; r++) {
                    batch.putRow(r, sink);
                    sink.endRow();
                    store.endRecord();
                    if (++rows >= rowsAtNextCheck) {
                        checkRowGroupSize();
                    }
                }
                written = true;
            } finally {
                failed |= !written;
            }
        }

        /**
         * A row group ends when its buffered size comes within two rows of the row group size; the
         * next check is half-way to the size at the rows' mean size so far (parquet-mr's heuristic).
         */
        private void checkRowGroupSize() throws IOException {
            long buffered = store.getBufferedSize();
            long rowSize = buffered / rows;
            if (buffered > nextRowGroupSize - 2 * rowSize) {
                endRowGroup();
                startRowGroup(); // checked again after the minimum row count
            } else {
                rowsAtNextCheck = Math.min(Math.max(props.getMinRowCountForPageSizeCheck(),
                        (rows + (long) (nextRowGroupSize / (float) rowSize)) / 2),
                        rows + props.getMaxRowCountForPageSizeCheck());
            }
        }

        private void endRowGroup() throws IOException {
            if (rows > 0) {
                rowGroups++;
                file.startBlock(rows);
                store.flush();
                pages.flushToFileWriter(file);
                rows = 0;
                file.endBlock();
                nextRowGroupSize = Math.min(file.getNextRowGroupSize(), rowGroupSize);
            }
            store.close();
        }

        /**
         * Ends the file; after a failed {@link #write} (its task fails, the committer deletes the file) only closes
         * it: a row half put would have left its columns with unequal value counts.
         */
        @Override
        public void close(TaskAttemptContext task) throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (failed) {
                    output.stream.close();
                } else {
                    endRowGroup();
                    file.end(metadata);
                }
            } finally {
                codecs.release();
            }
        }
    }

    /** An output file that keeps the stream it opened, for a writer to close it without ending the file. */
    private static final class Opened implements OutputFile {
        private final OutputFile file;
        private PositionOutputStream stream;

        Opened(OutputFile file) {
            this.file = file;
        }

        @Override
        public PositionOutputStream create(long blockSizeHint) throws IOException {
            stream = file.create(blockSizeHint);
            return stream;
        }

        @Override
        public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
            stream = file.createOrOverwrite(blockSizeHint);
            return stream;
        }

        @Override
        public boolean supportsBlockSize() {
            return file.supportsBlockSize();
        }

        @Override
        public long defaultBlockSize() {
            return file.defaultBlockSize();
        }

        @Override
        public String getPath() {
            return file.getPath();
        }
    }
}
