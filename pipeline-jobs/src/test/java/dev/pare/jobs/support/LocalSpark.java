package dev.pare.jobs.support;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One local[2] Spark session per test class (as Spark's own SharedSparkSession): create it in
 * {@code @BeforeAll}, {@link #stop} it in {@code @AfterAll}. Pare commands run in-process reuse it.
 */
public final class LocalSpark {
    /** An example table's columns as Pare reads them: id, features and label, none nullable. */
    public static final StructType EXAMPLES = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("label", DataTypes.IntegerType, false);

    private LocalSpark() {}

    public static SparkSession start() {
        return SparkSession.builder()
                .master("local[2]")
                .appName("pare-test")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.adaptive.enabled", "false")
                .getOrCreate();
    }

    public static void stop(SparkSession spark) {
        if (spark != null) {
            spark.stop();
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    /** The repository root (tests run with the module folder as working directory). */
    public static Path repoRoot() {
        Path here = Paths.get("").toAbsolutePath();
        return here.getFileName().toString().startsWith("pipeline-") ? here.getParent() : here;
    }

    public static String sample(String file) {
        return repoRoot().resolve("data-samples/fashion-mnist").resolve(file).toString();
    }

    /**
     * Arguments of {@code pare <command> --config conf/demo.conf --run-dir runDir} with the sample
     * data and teacher by absolute path (tests do not run in the repository root), then {@code extra}.
     */
    public static String[] demoArgs(String command, Path runDir, String... extra) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of(command,
                "--config", repoRoot().resolve("conf/demo.conf").toString(),
                "--run-dir", runDir.toString(),
                "--set", "data.train=" + sample("train.parquet"),
                "--set", "data.test=" + sample("test.parquet"),
                "--set", "teacher.model=" + sample("teacher-lenet300100.zip")));
        a.addAll(java.util.List.of(extra));
        return a.toArray(String[]::new);
    }
}
