package dev.pare.jobs.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.Sessions;
import dev.pare.jobs.stages.CalibrateStage;
import dev.pare.jobs.stages.DistillStage;
import dev.pare.jobs.stages.PruneStage;
import dev.pare.jobs.stages.ScoreDataStage;
import dev.pare.jobs.stages.SelectDataStage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The helpers of the benchmark scripts in {@code deploy/bench/}: they measure in bash (cluster
 * start, spark-submit, GC logs) and hand the numbers here to become one JSON document.
 * Subcommands: {@code compare} (Pare vs the PyTorch peer), {@code scale-out}, {@code memory},
 * {@code synthetic-data} (a larger training set of the same schema).
 */
@Command(name = "BenchTool", mixinStandardHelpOptions = true,
        description = "Assembles the documents of deploy/bench/{compare-pytorch,scale-out,memory}.sh.",
        subcommands = {BenchTool.Compare.class, BenchTool.ScaleOut.class, BenchTool.Memory.class,
            BenchTool.SyntheticData.class})
public final class BenchTool {
    private BenchTool() {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchTool()).execute(args));
    }

    /** {@code NAME=VALUE} pairs (an empty value is kept as ""), in order. */
    static Map<String, String> pairs(List<String> items, String option) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(new CommandLine(new BenchTool()),
                        option + " takes NAME=VALUE, was '" + item + "'");
            }
            m.put(item.substring(0, eq), item.substring(eq + 1));
        }
        return m;
    }

    /** Lines of a tab-separated file, split; blank lines and lines starting with # are skipped. */
    static List<String[]> tsv(Path file, int columns) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : java.nio.file.Files.readAllLines(file)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != columns) {
                throw new IOException(file + ": expected " + columns + " tab-separated columns, found " + f.length
                        + " in: " + line);
            }
            rows.add(f);
        }
        return rows;
    }

    /** The machine block, the caller's settings and notes, added to a summary document. */
    private static void describe(ObjectNode doc, List<String> settings, List<String> notes) {
        Bench.machine(doc, null).remove("loadavgStart");
        ObjectNode s = doc.putObject("settings");
        pairs(settings, "--setting").forEach(s::put);
        ArrayNode n = doc.putArray("notes");
        notes.forEach(n::add);
    }

    /** The stage folder of a stage command, for its provenance.json. */
    static String folder(String stage) {
        return switch (stage) {
            case "calibrate" -> CalibrateStage.FOLDER;
            case "score-data" -> ScoreDataStage.FOLDER;
            case "select-data" -> SelectDataStage.FOLDER;
            case "prune" -> PruneStage.FOLDER;
            case "distill" -> DistillStage.FOLDER;
            default -> throw new IllegalArgumentException("no stage folder known for '" + stage + "'");
        };
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Pare's FashionMnistBenchmark document next to the PyTorch peer's: prints a table, writes the"
                    + " comparison document.")
    static final class Compare implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "mlp or cnn") String model;

        @Option(names = "--pare", required = true, paramLabel = "FILE") Path pare;

        @Option(names = "--pytorch", required = true, paramLabel = "FILE") Path pytorch;

        @Option(names = "--env", paramLabel = "NAME=VALUE", description = "A speed variable given to both sides.")
        List<String> env = new ArrayList<>();

        @Option(names = "--note", paramLabel = "TEXT") List<String> notes = new ArrayList<>();

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The comparison document.")
        Path out;

        @Override
        public Integer call() throws IOException {
            List<String> all = new ArrayList<>(PytorchComparison.NOTES);
            all.addAll(notes);
            ObjectNode doc = PytorchComparison.document(model, Json.MAPPER.readTree(pare.toFile()),
                    Json.MAPPER.readTree(pytorch.toFile()), pairs(env, "--env"), all);
            java.nio.file.Files.writeString(out, Json.MAPPER.writeValueAsString(doc));
            System.out.print(PytorchComparison.table(doc));
            System.out.println();
            System.out.println("comparison document: " + out.toAbsolutePath());
            return 0;
        }
    }

    @Command(name = "scale-out", mixinStandardHelpOptions = true,
            description = "Prints the scale-out document from a measurements file (workers, cores per worker, stage,"
                    + " exit code, wall seconds, run directory; tab-separated).")
    static final class ScaleOut implements Callable<Integer> {
        @Option(names = "--measurements", required = true, paramLabel = "FILE") Path measurements;

        @Option(names = "--setting", paramLabel = "NAME=VALUE") List<String> settings = new ArrayList<>();

        @Option(names = "--note", paramLabel = "TEXT") List<String> notes = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            List<ScaleOutSummary.Measurement> ms = new ArrayList<>();
            for (String[] f : tsv(measurements, 6)) {
                Path prov = Path.of(f[5], folder(f[2]), "provenance.json");
                JsonNode p = java.nio.file.Files.isRegularFile(prov) ? Json.MAPPER.readTree(prov.toFile()) : null;
                ms.add(new ScaleOutSummary.Measurement(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2],
                        Integer.parseInt(f[3]), Double.parseDouble(f[4]), p));
            }
            ObjectNode doc = ScaleOutSummary.document(ms);
            describe(doc, settings, notes);
            System.out.println(Json.MAPPER.writeValueAsString(doc));
            return 0;
        }
    }

    @Command(name = "memory", mixinStandardHelpOptions = true,
            description = "Prints the memory document from a measurements file (rows, stage, exit code, wall seconds,"
                    + " driver GC log, folder of executor GC logs or -; tab-separated).")
    static final class Memory implements Callable<Integer> {
        @Option(names = "--measurements", required = true, paramLabel = "FILE") Path measurements;

        @Option(names = "--setting", paramLabel = "NAME=VALUE") List<String> settings = new ArrayList<>();

        @Option(names = "--note", paramLabel = "TEXT") List<String> notes = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            List<MemorySummary.Measurement> ms = new ArrayList<>();
            for (String[] f : tsv(measurements, 6)) {
                Path driver = Path.of(f[4]);
                GcLog d = java.nio.file.Files.isRegularFile(driver) ? GcLog.read(driver) : null;
                GcLog e = null;
                if (!f[5].equals("-") && java.nio.file.Files.isDirectory(Path.of(f[5]))) {
                    List<GcLog> logs = new ArrayList<>();
                    try (Stream<Path> files = java.nio.file.Files.list(Path.of(f[5]))) {
                        for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList()) {
                            logs.add(GcLog.read(p));
                        }
                    }
                    e = GcLog.max(logs);
                }
                ms.add(new MemorySummary.Measurement(Long.parseLong(f[0]), f[1], Integer.parseInt(f[2]),
                        Double.parseDouble(f[3]), d, e));
            }
            ObjectNode doc = MemorySummary.document(ms);
            describe(doc, settings, notes);
            System.out.println(Json.MAPPER.writeValueAsString(doc));
            return 0;
        }
    }

    @Command(name = "synthetic-data", mixinStandardHelpOptions = true,
            description = "A training table of the same schema, COPIES times as large: copy k of every row gets the id"
                    + " id + k * (max id - min id + 1), features and label unchanged. Written with Spark (zstd Parquet);"
                    + " --copies 1 --files N rewrites a table into N files.")
    static final class SyntheticData implements Callable<Integer> {
        @Option(names = "--source", required = true, paramLabel = "URI") String source;

        @Option(names = "--output", required = true, paramLabel = "URI") String output;

        @Option(names = "--copies", defaultValue = "1") int copies;

        @Option(names = "--first", defaultValue = "0", paramLabel = "N",
                description = "Start from the first N source rows by id (0: all).")
        int first;

        @Option(names = "--files", defaultValue = "0", paramLabel = "N",
                description = "Write N files of equal row counts (a shuffle); 0: one per source split and copy.")
        int outputFiles;

        @Option(names = "--master", defaultValue = "local[2]") String master;

        @Override
        public Integer call() throws IOException {
            if (copies < 1 || first < 0 || outputFiles < 0) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "--copies must be >= 1, --first and --files >= 0");
            }
            PareConfig.Data data = ConfigLoader.load(null, List.of()).data();
            Files files = new Files(new Configuration());
            try (Sessions.Handle session = Sessions.handle(new PareConfig.Spark(master, "pare-synthetic-data", Map.of()),
                    master)) {
                SparkSession spark = session.spark();
                Dataset<Row> base = ExampleTable.read(spark, files, source, "--source", data)
                        .select(ExampleTable.ID, ExampleTable.FEATURES, ExampleTable.LABEL);
                if (first > 0) {
                    base = base.orderBy(ExampleTable.ID).limit(first);
                }
                Row range = base.agg(org.apache.spark.sql.functions.min(ExampleTable.ID),
                        org.apache.spark.sql.functions.max(ExampleTable.ID)).first();
                long stride = range.getLong(1) - range.getLong(0) + 1;
                // A union of shifted copies: no shuffle, every copy keeps the source's partitioning.
                Dataset<Row> all = null;
                for (int k = 0; k < copies; k++) {
                    Dataset<Row> copy = base.withColumn(ExampleTable.ID, col(ExampleTable.ID).plus(lit(k * stride)));
                    all = all == null ? copy : all.union(copy);
                }
                if (outputFiles > 0) {
                    all = all.repartition(outputFiles);
                }
                all.write().mode(SaveMode.Overwrite).option("compression", "zstd").parquet(files.path(output).toString());
                long rows = spark.read().parquet(files.path(output).toString()).count();
                System.out.printf("synthetic-data: wrote %d rows (%d copies) to %s%n", rows, copies, files.path(output));
            }
            return 0;
        }
    }
}
