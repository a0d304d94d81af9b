package dev.pare.jobs.cli;

import dev.pare.common.data.IdxFile;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.ParquetBatchFormat;
import dev.pare.jobs.io.ParquetRows;
import dev.pare.jobs.io.Scans;
import dev.pare.jobs.spark.Sessions;
import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pare import-idx}: idx image + label files (gzip or plain) to Pare's Parquet layout. */
@Command(name = "import-idx", mixinStandardHelpOptions = true,
        description = "Convert an idx image file and its idx label file (MNIST / Fashion-MNIST, gzip or plain) into a"
                + " Parquet table (id: long, features: array<float> scaled to [0,1], label: int).")
final class ImportIdxCommand implements Callable<Integer> {
    static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("label", DataTypes.IntegerType, false);

    @Option(names = "--images", required = true, paramLabel = "FILE", description = "idx3 image file (.gz or plain).")
    File images;

    @Option(names = "--labels", required = true, paramLabel = "FILE", description = "idx1 label file (.gz or plain).")
    File labels;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "URI", description = "Parquet folder to write.")
    String output;

    @Option(names = "--limit", paramLabel = "N", description = "Keep only the first N examples (default: all).")
    Integer limit;

    @Option(names = "--id-offset", paramLabel = "K", defaultValue = "0",
            description = "Id of the first example (ids are K, K+1, ...; default ${DEFAULT-VALUE}).")
    long idOffset;

    @Option(names = "--master", paramLabel = "URL", defaultValue = "local[*]",
            description = "Spark master (default ${DEFAULT-VALUE}).")
    String master;

    @Option(names = "--force", description = "Replace the output if it exists.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        IdxFile img = readIdx(images);
        IdxFile lab = readIdx(labels);
        if (img.dims().length < 2) {
            throw new BadInputException(images + ": expected an image file with at least 2 dimensions, found "
                    + img.dims().length);
        }
        if (lab.dims().length != 1) {
            throw new BadInputException(labels + ": expected a label file with 1 dimension, found " + lab.dims().length);
        }
        if (img.count() != lab.count()) {
            throw new BadInputException(images + " holds " + img.count() + " images but " + labels + " holds "
                    + lab.count() + " labels");
        }
        if (limit != null && limit <= 0) {
            throw new BadInputException("--limit must be > 0, was " + limit);
        }
        int n = limit == null ? img.count() : Math.min(limit, img.count());
        int width = img.itemSize();
        if (output.isBlank()) {
            throw new BadInputException("--output is empty: give the Parquet folder to write");
        }
        var sparkConf = new dev.pare.common.config.PareConfig.Spark(master, "pare-import-idx", java.util.Map.of());
        Files files = new Files(Sessions.hadoopConfiguration(sparkConf));
        Path out = files.path(output);
        if (files.exists(out) && !force) {
            throw new BadInputException("--output " + out + " exists; pass --force to replace it");
        }
        Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp");
        try (Sessions.Handle session = Sessions.handle(sparkConf, master)) {
            SparkSession spark = session.spark();
            files.delete(tmp); // left by an import that died
            // Row groups of 1 MiB, not Parquet's 128: a later stage's scan can split the files for its slots (Scans).
            // Dictionaries on, as Spark SQL's writer has them by default: 256 pixel values per column.
            ParquetRows.writeBatches(spark, batches(spark, img, lab, n, idOffset), SCHEMA, tmp.toString(), true,
                    Map.of(ParquetOutputFormat.COMPRESSION, CompressionCodecName.ZSTD.name(),
                            ParquetOutputFormat.BLOCK_SIZE, String.valueOf(Scans.IMPORT_ROW_GROUP_BYTES)));
            FileSystem fs = files.fs(out);
            files.delete(out);
            if (!fs.rename(tmp, out)) {
                throw new IOException("could not rename " + tmp + " to " + out);
            }
        } catch (Exception e) {
            files.delete(tmp);
            throw e;
        }
        System.out.printf("import-idx: wrote %d examples of %d features (ids %d..%d) to %s%n", n, width, idOffset,
                idOffset + n - 1, out);
        return 0;
    }

    /**
     * The examples as batches built on the executors from the broadcast idx bytes (no large task
     * closures): one batch per ~20k rows, one file each, ids from {@code idOffset}, pixels scaled by 1/255.
     */
    static JavaRDD<IdxRows> batches(SparkSession spark, IdxFile img, IdxFile lab, int n, long idOffset) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> pixels = jsc.broadcast(img.data());
        Broadcast<byte[]> labels = jsc.broadcast(lab.data());
        final int width = img.itemSize();
        final long offset = idOffset;
        int partitions = Math.max(1, (n + 19_999) / 20_000);
        return jsc.parallelize(java.util.stream.IntStream.range(0, partitions).boxed().toList(), partitions)
                .map(p -> new IdxRows(offset, (int) ((long) n * p / partitions), (int) ((long) n * (p + 1) / partitions),
                        pixels.value(), labels.value(), width));
    }

    /** Examples {@code [from, to)} of the idx bytes as rows of {@link #SCHEMA}: id {@code offset + i}. */
    static final class IdxRows implements ParquetBatchFormat.Batch {
        private final long offset;
        private final int from;
        private final int to;
        private final byte[] pixels;
        private final byte[] labels;
        private final int width;
        private final float[] row;

        IdxRows(long offset, int from, int to, byte[] pixels, byte[] labels, int width) {
            this.offset = offset;
            this.from = from;
            this.to = to;
            this.pixels = pixels;
            this.labels = labels;
            this.width = width;
            this.row = new float[width];
        }

        @Override
        public int size() {
            return to - from;
        }

        @Override
        public void putRow(int r, ParquetBatchFormat.RowSink sink) {
            int i = from + r;
            for (int j = 0, at = i * width; j < width; j++) {
                row[j] = (pixels[at + j] & 0xff) / 255f;
            }
            sink.putLong(0, offset + i);
            sink.putFloats(1, row, 0, width);
            sink.putInt(2, labels[i] & 0xff);
        }
    }

    private static IdxFile readIdx(File f) {
        if (!f.isFile()) {
            throw new BadInputException(f + " does not exist or is not a file");
        }
        try {
            return IdxFile.read(f.toPath());
        } catch (IOException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }
}
