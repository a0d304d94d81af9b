package dev.pare.jobs.io;

import java.io.IOException;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Batches of rows written as a Parquet table by a plain RDD job: {@link ParquetBatchFormat} (the files,
 * their schema and footer metadata are what Spark SQL's own writer writes for the same rows) behind
 * Hadoop's file output committer (task outputs renamed into place on commit, a {@code _SUCCESS}
 * marker), without Spark SQL's planning of a write.
 *
 * <p>Why: a {@code score-data} command spent 0.57-0.63 s between asking Spark SQL to write its
 * scores and the write job's start (Catalyst's planning of the write, whole-stage code generation,
 * the classes they load), 5% of the stage on 60k Fashion-MNIST rows in {@code local[2]}, paid again
 * by every stage command. Files are named by Hadoop ({@code part-r-00000.snappy.parquet}), one per
 * partition, in partition order.
 */
public final class ParquetRows {
    private ParquetRows() {}

    /**
     * Writes {@code batches}, whose rows match {@code schema}, to a new folder {@code path} (one file per
     * partition), column by column from each batch's arrays ({@link ParquetBatchFormat}), with the session's
     * Parquet settings (compression codec, legacy format, timestamp type, field ids) and, on top,
     * {@code parquet.enable.dictionary} = {@code dictionary}, then {@code settings}.
     *
     * @param settings Parquet's settings over the session's, e.g. {@code parquet.compression} = {@code ZSTD}
     * @throws IllegalArgumentException when {@code schema} has a field {@link ParquetBatchFormat} cannot write
     * @throws IOException when the job cannot be set up (the folder exists, the file system refuses)
     */
    public static void writeBatches(SparkSession spark, JavaRDD<? extends ParquetBatchFormat.Batch> batches,
                                    StructType schema, String path, boolean dictionary, Map<String, String> settings)
            throws IOException {
        ParquetBatchFormat.check(schema);
        Configuration conf = jobConf(spark, schema, path, dictionary);
        settings.forEach(conf::set);
        batches.mapToPair(b -> new Tuple2<Void, ParquetBatchFormat.Batch>(null, b))
                .saveAsNewAPIHadoopFile(path, Void.class, ParquetBatchFormat.Batch.class, ParquetBatchFormat.class,
                        conf);
    }

    /** The Hadoop settings of a job writing {@code schema} to {@code path}, from the session's Parquet settings. */
    private static Configuration jobConf(SparkSession spark, StructType schema, String path, boolean dictionary)
            throws IOException {
        SQLConf sql = spark.sessionState().conf();
        Configuration conf = spark.sessionState().newHadoopConf();
        // What Spark SQL's ParquetFileFormat.prepareWrite sets for its ParquetWriteSupport.
        ParquetWriteSupport.setSchema(schema, conf);
        conf.set(SQLConf.PARQUET_WRITE_LEGACY_FORMAT().key(), String.valueOf(sql.writeLegacyParquetFormat()));
        conf.set(SQLConf.PARQUET_OUTPUT_TIMESTAMP_TYPE().key(), sql.parquetOutputTimestampType().toString());
        conf.set(SQLConf.PARQUET_FIELD_ID_WRITE_ENABLED().key(), String.valueOf(sql.parquetFieldIdWriteEnabled()));
        // Spark's codec names, as its ParquetOptions maps them: "none" is parquet-mr's UNCOMPRESSED.
        String codec = sql.parquetCompressionCodec().toUpperCase(java.util.Locale.ROOT);
        conf.set(ParquetOutputFormat.COMPRESSION, codec.equals("NONE") ? "UNCOMPRESSED" : codec);
        if (conf.get(ParquetOutputFormat.JOB_SUMMARY_LEVEL) == null) {
            conf.set(ParquetOutputFormat.JOB_SUMMARY_LEVEL, "NONE");
        }
        conf.setBoolean(ParquetOutputFormat.ENABLE_DICTIONARY, dictionary);
        Job job = Job.getInstance(conf);
        FileOutputFormat.setOutputPath(job, new org.apache.hadoop.fs.Path(path));
        return job.getConfiguration();
    }
}
