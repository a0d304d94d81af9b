package dev.pare.jobs.stages;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.config.PareConfig;
import dev.pare.common.datapruning.ScoreSelection;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.catalyst.expressions.XXH64;

/**
 * A score table small enough for the driver ({@link SelectDataStage#DRIVER_ROWS}), read whole with
 * parquet-mr (ids, labels and one score column), and {@code select-data} over it: the selection
 * ({@link ScoreSelection}), the kept rows' table and the report's counts, with no Spark job. The Spark
 * route ({@link SelectDataStage#select}, {@link SelectDataStage#summary}) keeps the same rows.
 */
final class DriverScores {
    /** The kept rows' schema: what the Spark route writes for {@code select(id, label)}. */
    static final MessageType KEPT_SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.INT64).named("id")
            .required(PrimitiveTypeName.INT32).named("label")
            .named("spark_schema");

    private final String column;
    private final long[] ids;
    private final int[] labels;
    private final double[] scores;

    /** Rows of ids, labels and the score {@code column}. */
    DriverScores(String column, long[] ids, int[] labels, double[] scores) {
        this.column = column;
        this.ids = ids;
        this.labels = labels;
        this.scores = scores;
    }

    long[] ids() {
        return ids;
    }

    int[] labels() {
        return labels;
    }

    double[] scores() {
        return scores;
    }

    /**
     * The id, label and {@code column} of every row of the score table {@code table} (a folder of Parquet
     * files, as score-data writes it), or null when its footers count more than {@code maxRows} rows.
     *
     * @throws BadInputException naming the file when a file lacks {@code column}
     */
    static DriverScores read(Files files, Path table, String column, long maxRows) throws IOException {
        Configuration conf = files.hadoop();
        List<Path> parts = files.dataFiles(table);
        long rows = 0;
        MessageType projection = null;
        for (Path p : parts) {
            try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(p, conf))) {
                MessageType schema = r.getFooter().getFileMetaData().getSchema();
                if (!schema.containsField(column)) {
                    throw SelectDataStage.missingScore(table, column);
                }
                projection = new MessageType(schema.getName(), schema.getType("id"), schema.getType("label"),
                        schema.getType(column));
                rows += r.getRecordCount();
            }
        }
        if (rows > maxRows) {
            return null;
        }
        long[] ids = new long[(int) rows];
        int[] labels = new int[(int) rows];
        double[] scores = new double[(int) rows];
        int n = 0;
        for (Path p : parts) {
            Configuration read = new Configuration(conf);
            read.set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString());
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), p).withConf(read).build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    if (n == rows) {
                        throw new IOException(p + " holds more rows than its footer says (" + rows + " in all)");
                    }
                    ids[n] = g.getLong(0, 0);
                    labels[n] = g.getInteger(1, 0);
                    scores[n] = g.getDouble(2, 0);
                    n++;
                }
            }
        }
        if (n != rows) {
            throw new IOException(table + " holds " + n + " rows where its footers say " + rows);
        }
        return new DriverScores(column, ids, labels, scores);
    }

    /** Which rows {@code select-data} keeps: {@code keep} of them by {@code sel}, seeded by {@code seed}. */
    boolean[] select(PareConfig.Selection sel, long seed, long keep) {
        if (!sel.score().configName().equals(column)) {
            throw new IllegalArgumentException("selection by " + sel.score().configName() + " over scores of " + column);
        }
        long s = Seeds.derive(seed, "select-" + sel.method().configName(), 0);
        boolean larger = sel.score().harderWhenLarger();
        double[] hardness = new double[scores.length];
        long[] random = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            // As the Spark route's columns: score × -1.0, and xxhash64(id, s) (the id hashed with Spark's seed 42,
            // then s with that).
            hardness[i] = larger ? scores[i] : scores[i] * -1.0;
            random[i] = XXH64.hashLong(s, XXH64.hashLong(ids[i], 42L));
        }
        int[] kept = ScoreSelection.select(ids, labels, hardness, random, new ScoreSelection.Settings(sel.method(),
                sel.classBalanced(), sel.ccsDropHardest(), sel.ccsStrata()), keep);
        boolean[] out = new boolean[ids.length];
        for (int i : kept) {
            out[i] = true;
        }
        return out;
    }

    /**
     * Writes the kept rows' ids and labels, in id order, as one Parquet file in the new folder {@code out},
     * compressed by the config's {@code spark.sql.parquet.compression.codec} (Spark's default, snappy, when
     * unset), with a {@code _SUCCESS} marker as Spark's writers leave.
     */
    void writeKept(Files files, boolean[] kept, Path out, Map<String, String> sparkConf) throws IOException {
        String codec = sparkConf.getOrDefault("spark.sql.parquet.compression.codec", "snappy")
                .toLowerCase(Locale.ROOT);
        CompressionCodecName name;
        try {
            name = CompressionCodecName.fromConf(codec.equals("none") ? "uncompressed" : codec);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("spark.sql.parquet.compression.codec: unknown codec '" + codec + "'");
        }
        Integer[] order = new Integer[ids.length];
        int k = 0;
        for (int i = 0; i < ids.length; i++) {
            if (kept[i]) {
                order[k++] = i;
            }
        }
        Integer[] rows = Arrays.copyOf(order, k);
        Arrays.sort(rows, (a, b) -> Long.compare(ids[a], ids[b]));
        files.fs(out).mkdirs(out);
        Path file = new Path(out, "part-00000" + name.getExtension() + ".parquet");
        SimpleGroupFactory groups = new SimpleGroupFactory(KEPT_SCHEMA);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, files.hadoop()))
                .withType(KEPT_SCHEMA).withCompressionCodec(name).withConf(files.hadoop()).build()) {
            for (int i : rows) {
                w.write(groups.newGroup().append("id", ids[i]).append("label", labels[i]));
            }
        }
        files.writeString(new Path(out, "_SUCCESS"), "");
    }

    /** The report's counts of all rows and the kept ones: per class, and the histogram of the score. */
    SelectDataStage.Summary summary(boolean[] kept, int bins) {
        ScoreSelection.Histogram h = ScoreSelection.histogram(labels, scores, kept, bins);
        ObjectNode json = Json.object();
        json.put("score", column);
        json.put("min", h.min());
        json.put("max", h.max());
        ArrayNode all = json.putArray("all");
        ArrayNode keptBins = json.putArray("kept");
        for (int i = 0; i < bins; i++) {
            all.add(h.all()[i]);
            keptBins.add(h.kept()[i]);
        }
        return new SelectDataStage.Summary(ScoreSelection.perClass(labels, kept), json);
    }
}
