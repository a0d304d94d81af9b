package dev.pare.jobs.io;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.Footer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat$;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * Parquet tables read with their schema taken on the driver. Spark infers a Parquet table's schema (without
 * schema merging) from one file's footer, but reads that footer in a Spark job of one task: 0.5 s as the first
 * job of a fresh JVM, 0.06-0.15 s later, once per table a command reads. Here the same footer is read with
 * Spark's own functions ({@code ParquetFileFormat.readParquetFootersInParallel}, which runs on the calling
 * thread's pool, and {@code readSchemaFromFooter} with the converter settings Spark's inference uses), and
 * the table is read with that schema. Where Spark would look elsewhere or further, its own inference runs:
 * schema merging on, corrupt or missing files to be ignored, summary files ({@code _metadata},
 * {@code _common_metadata}), or folders below the table's (partition folders).
 */
public final class ParquetTables {
    private ParquetTables() {}

    /** {@code spark.read().parquet(path)}, its schema read on the driver where {@link #schemaOnDriver} reads it. */
    public static Dataset<Row> read(SparkSession spark, Files files, Path path) throws IOException {
        Files.Listing listing = files.listing(path)
                .orElseThrow(() -> new java.io.FileNotFoundException("no such file or folder: " + path));
        return read(spark, listing);
    }

    /** As above, for a path as {@link Files#listing} found it. */
    public static Dataset<Row> read(SparkSession spark, Files.Listing listing) throws IOException {
        Optional<StructType> schema = schemaOnDriver(spark, listing);
        String path = listing.path().toString();
        return schema.isPresent() ? spark.read().schema(schema.get()).parquet(path) : spark.read().parquet(path);
    }

    /**
     * The schema Spark infers for the Parquet table {@code listing} found, read on the calling thread from the
     * file Spark's inference reads: the path itself when it is a file, else the folder's first data file in
     * listing order ({@link Files.Listing#firstDataFile}), all fields nullable as Spark makes them. Empty where
     * Spark's inference must run (above), or the folder holds no data file.
     */
    static Optional<StructType> schemaOnDriver(SparkSession spark, Files.Listing listing) throws IOException {
        SQLConf conf = spark.sessionState().conf();
        if (conf.isParquetSchemaMergingEnabled() || conf.ignoreCorruptFiles() || conf.ignoreMissingFiles()
                || listing.nested() || listing.firstDataFile() == null) {
            return Optional.empty();
        }
        FileStatus file = listing.firstDataFile();
        Configuration hadoop = spark.sessionState().newHadoopConf();
        List<Footer> footers = JavaConverters.seqAsJavaList(ParquetFileFormat$.MODULE$.readParquetFootersInParallel(
                hadoop, JavaConverters.asScalaBuffer(List.of(file)).toSeq(), false));
        ParquetToSparkSchemaConverter converter = new ParquetToSparkSchemaConverter(conf.isParquetBinaryAsString(),
                conf.isParquetINT96AsTimestamp(), false, conf.parquetInferTimestampNTZEnabled(),
                conf.legacyParquetNanosAsLong());
        // Nullable, as Spark makes every file source's data schema (HadoopFsRelation's dataSchema.asNullable).
        return Optional.of(ParquetFileFormat$.MODULE$.readSchemaFromFooter(footers.get(0), converter).asNullable());
    }
}
