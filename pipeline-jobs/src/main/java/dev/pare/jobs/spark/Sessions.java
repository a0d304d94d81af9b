package dev.pare.jobs.spark;

import dev.pare.common.config.PareConfig;
import dev.pare.common.config.Redaction;
import dev.pare.common.util.OpenMp;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Scans;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;

/** Builds the Spark session of a Pare command. */
public final class Sessions {
    private static final String REDACTION_REGEX = "spark.redaction.regex";
    private static final String PLUGINS = "spark.plugins";
    private static final String EXECUTOR_JAVA_OPTIONS = "spark.executor.extraJavaOptions";
    private static final String EXECUTOR_ENV = "spark.executorEnv.";
    private static final String TASK_CPUS = "spark.task.cpus";
    static final String MIN_REGISTERED = "spark.scheduler.minRegisteredResourcesRatio";

    private Sessions() {}

    /**
     * A session and whether this command created it: a session that already existed (an
     * embedding application, a test) is used and left open on {@link #close()}.
     */
    public static final class Handle implements AutoCloseable {
        private final SparkSession spark;
        private final boolean owned;

        private Handle(SparkSession spark, boolean owned) {
            this.spark = spark;
            this.owned = owned;
        }

        public SparkSession spark() {
            return spark;
        }

        @Override
        public void close() {
            if (owned) {
                spark.stop();
                SparkSession.clearActiveSession();
                SparkSession.clearDefaultSession();
            }
        }
    }

    /** Opens (or joins) a session; closing the handle stops it only if it was opened here. */
    public static Handle handle(PareConfig.Spark conf, String master) {
        return handle(conf, master, false);
    }

    /** {@link #handle(PareConfig.Spark, String)}, with {@code jitThresholds} as in {@link #open(PareConfig.Spark, String, boolean)}. */
    public static Handle handle(PareConfig.Spark conf, String master, boolean jitThresholds) {
        boolean owned = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        return new Handle(open(conf, master, jitThresholds), owned);
    }

    /**
     * Waits until no task of {@code spark}'s application runs, at most {@code timeoutMillis}, and says whether
     * none does. When a job fails, Spark kills its other tasks and returns before they have stopped: one of them
     * still writing into a stage's temporary folder would write after the stage removed it (a score-data run on a
     * table with zeroed pages once left its {@code _tmp} folder so). Counts the tasks {@link RunningTasks} saw start,
     * which {@link #open} registers.
     */
    public static boolean awaitNoRunningTasks(SparkSession spark, long timeoutMillis) throws InterruptedException {
        return RunningTasks.of(spark.sparkContext()).awaitNone(spark.sparkContext(), timeoutMillis);
    }

    /**
     * The Hadoop configuration Spark builds for this command's session ({@code SparkHadoopUtil}, as
     * {@code SparkContext.hadoopConfiguration}): the {@code *-site.xml} files on the classpath, then
     * every {@code spark.hadoop.*} setting of {@code spark-submit} (system properties) and of the
     * config's {@code spark.conf}, with the prefix dropped. Pare's own file access (run directory,
     * lock, teacher) uses it, so a path resolves to the same file system for Pare as for Spark's
     * Parquet reads, e.g. {@code hdfs:///...} against a {@code spark.hadoop.fs.defaultFS}, or S3A
     * credentials given as {@code spark.hadoop.fs.s3a.*}.
     */
    public static Configuration hadoopConfiguration(PareConfig.Spark conf) {
        SparkConf spark = new SparkConf();
        conf.conf().forEach(spark::set);
        return SparkHadoopUtil.get().newConfiguration(spark);
    }

    /**
     * The {@code spark.plugins} value that adds {@link ExecutorWarmup} to the plugins of the config's
     * {@code spark.conf} or, failing that, of {@code submitted} (spark-submit's {@code --conf}
     * settings); empty when {@value ExecutorWarmup#ENABLED} is false there.
     *
     * @throws BadInputException when {@value ExecutorWarmup#ENABLED} is neither true nor false
     */
    static Optional<String> warmupPlugins(Map<String, String> conf, SparkConf submitted) {
        String enabled = effective(conf, submitted, ExecutorWarmup.ENABLED, "true").trim();
        if (!enabled.equalsIgnoreCase("true") && !enabled.equalsIgnoreCase("false")) {
            throw new BadInputException(ExecutorWarmup.ENABLED + " must be true or false, was '" + enabled + "'");
        }
        if (enabled.equalsIgnoreCase("false")) {
            return Optional.empty();
        }
        return Optional.of(withClasses(effective(conf, submitted, PLUGINS, ""), ExecutorWarmup.class.getName()));
    }

    /**
     * {@value #MIN_REGISTERED} for a standalone master ({@code spark://}) whose config and
     * spark-submit settings leave it unset: 0.8, as YARN and Kubernetes default to (standalone's is
     * 0). Pare plans its scans for the registered executors' task slots ({@code Scans}); a standalone
     * driver that starts jobs before they register plans them for Spark's default parallelism (2
     * before any registered). With the ratio the driver waits, for at most
     * {@code spark.scheduler.maxRegisteredResourcesWaitingTime} (30 s), until 80% of
     * {@code spark.cores.max} has registered; without {@code spark.cores.max} it does not wait.
     */
    static Optional<String> minRegisteredRatio(String master, Map<String, String> conf, SparkConf submitted) {
        if (!master.startsWith("spark://") || effective(conf, submitted, MIN_REGISTERED, null) != null) {
            return Optional.empty();
        }
        return Optional.of("0.8");
    }

    /**
     * The {@code spark.executor.extraJavaOptions} value: the config's or, failing that,
     * {@code submitted}'s, with {@link JitThresholds#FLAGS} in front when {@code jitThresholds} unless they set
     * an option of tiered compilation, and {@link PhysicalMemoryCheck#FLAG} added unless they set JavaCPP's
     * {@code maxPhysicalBytes} themselves.
     */
    static String executorJavaOptions(Map<String, String> conf, SparkConf submitted, boolean jitThresholds) {
        String own = effective(conf, submitted, EXECUTOR_JAVA_OPTIONS, "");
        return PhysicalMemoryCheck.executorJavaOptions(jitThresholds ? JitThresholds.executorJavaOptions(own) : own);
    }

    /**
     * The {@code spark.kryo.registrator} value: the config's or, failing that, {@code submitted}'s
     * registrators, then ND4J's and {@link PareKryo}. Unused unless the session's serializer is Kryo.
     */
    static String kryoRegistrators(Map<String, String> conf, SparkConf submitted) {
        return withClasses(effective(conf, submitted, PareKryo.REGISTRATORS, ""), PareKryo.ND4J_REGISTRATOR,
                PareKryo.class.getName());
    }

    /** Setting {@code key} as the session will see it: the config's {@code spark.conf} wins over spark-submit's. */
    private static String effective(Map<String, String> conf, SparkConf submitted, String key, String otherwise) {
        return conf.getOrDefault(key, submitted.get(key, otherwise));
    }

    /**
     * The executors' OpenMP settings, for their environment ({@code spark.executorEnv.*}), where the
     * user set none: {@code OMP_NUM_THREADS} = {@code spark.task.cpus} (default 1), so that task slots ×
     * threads match the executor's cores, as Spark does for Python workers; {@code OMP_WAIT_POLICY} =
     * {@code PASSIVE}: OpenMP's workers otherwise spin between parallel regions (3-5x of a small
     * machine's CPU, PERF-NOTES). A count of threads per task that does not change with the executors'
     * machines also keeps their results the same bits on any cluster.
     */
    static Map<String, String> executorOpenMp(Map<String, String> conf, SparkConf submitted) {
        Map<String, String> set = new LinkedHashMap<>();
        String threads = EXECUTOR_ENV + OpenMp.THREADS;
        if (effective(conf, submitted, threads, null) == null) {
            set.put(threads, effective(conf, submitted, TASK_CPUS, "1").trim());
        }
        String policy = EXECUTOR_ENV + OpenMp.WAIT_POLICY;
        if (effective(conf, submitted, policy, null) == null) {
            set.put(policy, "PASSIVE");
        }
        return set;
    }

    /** A comma-separated class list ({@code current}, may be empty or null) with {@code added} after it, each class once. */
    static String withClasses(String current, String... added) {
        Set<String> names = new LinkedHashSet<>();
        for (String s : (current == null ? "" : current).split(",")) {
            if (!s.isBlank()) {
                names.add(s.trim());
            }
        }
        names.addAll(List.of(added));
        return String.join(",", names);
    }

    /**
     * @param master overrides {@code spark.master} of the config when not null; under
     *     {@code spark-submit} (where {@code spark.master} is already set) pass null
     */
    public static SparkSession open(PareConfig.Spark conf, String master) {
        return open(conf, master, false);
    }

    /**
     * {@link #open(PareConfig.Spark, String)}; with {@code jitThresholds}, the executors take the JIT's C2 later
     * ({@link JitThresholds}), for a command whose tasks do not train.
     */
    public static SparkSession open(PareConfig.Spark conf, String master, boolean jitThresholds) {
        SparkSession.Builder b = SparkSession.builder().appName(conf.appName());
        String m = master != null ? master : System.getProperty("spark.master", conf.master());
        b.master(m);
        if (m.startsWith("local")) {
            // Local runs stay on loopback and need no UI; shuffles are small.
            b.config("spark.driver.host", "127.0.0.1");
            b.config("spark.driver.bindAddress", "127.0.0.1");
            b.config("spark.ui.enabled", "false");
            b.config("spark.sql.shuffle.partitions", "4");
        }
        // Adaptive execution would coalesce the calibration shards; their count and order are part of the result.
        b.config("spark.sql.adaptive.enabled", "false");
        // Spark's console progress bar (stderr) on stages that run longer than half a second.
        b.config("spark.ui.showConsoleProgress", "true");
        for (Map.Entry<String, String> e : conf.conf().entrySet()) {
            b.config(e.getKey(), e.getValue());
        }
        SparkConf submitted = new SparkConf();
        executorOpenMp(conf.conf(), submitted).forEach(b::config);
        // Refused before the session starts when it is not a count.
        Scans.tasksPerSlot(effective(conf.conf(), submitted, Scans.SETTING, null));
        // A standalone driver waits for its executors before the first scan is planned for their slots.
        minRegisteredRatio(m, conf.conf(), submitted).ifPresent(v -> b.config(MIN_REGISTERED, v));
        // Executor JVMs skip JavaCPP's read of /proc/self/statm on every native allocation, and for a command
        // that does not train take C2 later (JitThresholds), unless the user set those options.
        b.config(EXECUTOR_JAVA_OPTIONS, executorJavaOptions(conf.conf(), submitted, jitThresholds));
        // Executors load ND4J as they start, not in their first model task.
        warmupPlugins(conf.conf(), submitted).ifPresent(v -> b.config(PLUGINS, v));
        // Under Kryo (spark.serializer), Pare's records and ND4J's arrays need registered serializers.
        b.config(PareKryo.REGISTRATORS, kryoRegistrators(conf.conf(), submitted));
        // Spark's logs, UI and event log hide the values of the settings Pare redacts (a user's regex is kept too).
        b.config(REDACTION_REGEX, Redaction.sparkRegex(conf.conf().getOrDefault(REDACTION_REGEX,
                System.getProperty(REDACTION_REGEX))));
        SparkSession spark;
        try {
            spark = b.getOrCreate();
        } catch (Exception e) {
            // SparkException is checked in Java's eyes but thrown undeclared by Scala.
            if (String.valueOf(e.getMessage()).startsWith("Could not parse Master URL")) {
                throw new BadInputException((master != null ? "--master" : "spark.master") + " '" + m + "' is not a"
                        + " Spark master URL (local, local[N], local[*], spark://HOST:PORT, yarn, k8s://URL)", e);
            }
            throw e;
        }
        spark.sparkContext().setLogLevel("WARN");
        // Counts running tasks from here on, for a failed stage's wait (awaitNoRunningTasks).
        RunningTasks.of(spark.sparkContext());
        return spark;
    }
}
