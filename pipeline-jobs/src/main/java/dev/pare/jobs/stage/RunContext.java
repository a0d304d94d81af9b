package dev.pare.jobs.stage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.common.config.PareConfig;
import dev.pare.common.model.Networks;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.ExampleChecks;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.spark.Sessions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What the stages of one command share: the resolved config, the run directory, the Spark session
 * (opened on first use), the teacher (read and checked once) and the validated example tables.
 */
public final class RunContext implements AutoCloseable {
    /** Folder of the run directory holding the records of tables that passed their checks. */
    public static final String CHECKS = "_CHECKS";

    private final PareConfig config;
    private final Files files;
    private final Path runDir;
    private final String master;
    private final boolean force;
    private final boolean resume;
    private final PrintStream out;
    private final RunLock lock;
    private Sessions.Handle spark;
    private boolean executorJit;
    private byte[] teacherBytes;
    private MultiLayerNetwork teacher;
    private final Map<String, Dataset<Row>> tables = new HashMap<>();
    /** Tables read whose rows wait for the checks of a stage's own pass ({@link #trainForChecksInPass}). */
    private final Map<String, Dataset<Row>> unchecked = new HashMap<>();
    private final Map<String, ExampleTable.Summary> summaries = new HashMap<>();
    private final Map<Path, String> pendingChecks = new LinkedHashMap<>();
    /** Input tables' paths as first listed by this command, by URI ({@link #listing}). */
    private final Map<String, Files.Listing> listings = new HashMap<>();

    public RunContext(PareConfig config, Files files, Path runDir, String master, boolean force, boolean resume,
                      PrintStream out) {
        this.config = config;
        this.files = files;
        this.runDir = runDir;
        this.master = master;
        this.force = force;
        this.resume = resume;
        this.out = out;
        try {
            this.lock = RunLock.acquire(files, runDir, System.err);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("could not lock the run directory " + runDir, e);
        }
    }

    public PareConfig config() {
        return config;
    }

    public Files files() {
        return files;
    }

    public Path runDir() {
        return runDir;
    }

    public boolean force() {
        return force;
    }

    public boolean resume() {
        return resume;
    }

    /** Progress and summaries for the user. */
    public PrintStream out() {
        return out;
    }

    /**
     * Whether the executors of this command's session take the JIT's C2 later ({@code JitThresholds}): true for
     * a command of a stage that does not train. False (the JVM's own thresholds) unless set before the session
     * starts.
     */
    public synchronized void executorJitThresholds(boolean on) {
        if (spark != null) {
            throw new IllegalStateException("the Spark session has started: its executors' options are set");
        }
        executorJit = on;
    }

    /**
     * After a failed stage, before its temporary folder is removed: waits up to a minute until no task of this
     * command's session runs ({@link Sessions#awaitNoRunningTasks}). Nothing to wait for when no session started.
     */
    public void awaitRunningTasks() {
        Sessions.Handle started;
        synchronized (this) {
            started = spark;
        }
        if (started == null) {
            return;
        }
        try {
            if (!Sessions.awaitNoRunningTasks(started.spark(), 60_000)) {
                org.slf4j.LoggerFactory.getLogger(RunContext.class).warn(
                        "tasks of the failed stage still run after a minute; its temporary folder is removed anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public synchronized SparkSession spark() {
        if (spark == null) {
            spark = Sessions.handle(config.spark(), master, executorJit);
        }
        return spark.spark();
    }

    /** The teacher model file's bytes. */
    public byte[] teacherBytes() throws IOException {
        if (teacherBytes == null) {
            teacherBytes = files.readInput("teacher.model", files.path(config.teacher().model()));
        }
        return teacherBytes;
    }

    /** {@code teacher=<sha256 of the model file>}, for stage identities. */
    public String teacherIdentity() throws IOException {
        return "teacher=" + Hashes.ofBytes(teacherBytes());
    }

    /** Identity of a stage that runs the teacher over the training data: data config, teacher, train table. */
    public java.util.List<String> teacherOnTrainIdentity() throws IOException {
        return java.util.List.of("data=" + config.renderSection("data"), teacherIdentity(),
                "train=" + describe("data.train", config.data().train()));
    }

    /** The teacher, read and checked against data.num-classes. */
    public MultiLayerNetwork teacher() throws IOException {
        if (teacher == null) {
            String source = "teacher.model (" + files.path(config.teacher().model()) + ")";
            MultiLayerNetwork net = Networks.read(teacherBytes(), source, false);
            Networks.checkTeacher(net, source, -1, config.data().numClasses());
            teacher = net;
        }
        return teacher;
    }

    /** Feature length the teacher expects. */
    public int featureLength() throws IOException {
        return (int) Networks.inputSize(teacher());
    }

    /** The training table, validated on first use. */
    public Dataset<Row> train() throws IOException {
        return table("data.train", config.data().train());
    }

    /** The test table, validated on first use. */
    public Dataset<Row> test() throws IOException {
        return table("data.test", config.data().test());
    }

    private Dataset<Row> table(String role, String uri) throws IOException {
        Dataset<Row> df = tables.get(role);
        if (df == null) {
            df = unchecked.remove(role);
            if (df == null) {
                df = ExampleTable.read(spark(), listing(role, uri), role, config.data());
            }
            summaries.put(role, checked(role, uri, df, featureLength()));
            tables.put(role, df);
        }
        return df;
    }

    /**
     * The training table for a stage whose own first pass reads every row of it (calibrate's sample):
     * read, its files and columns checked, and its rows left to that pass, which gives its
     * {@link ExampleChecks} to {@link #acceptTrainChecks} before any other use of the rows. When this
     * command checked the table already, or a record of an earlier command's checks covers it (in
     * {@value #CHECKS}), it is {@link #train()}'s table, and the pass's checks are not needed.
     */
    public Dataset<Row> trainForChecksInPass() throws IOException {
        String role = "data.train";
        Dataset<Row> df = tables.get(role);
        if (df != null) {
            return df;
        }
        df = unchecked.get(role);
        if (df == null) {
            String uri = config.data().train();
            df = ExampleTable.read(spark(), listing(role, uri), role, config.data());
            OptionalLong rows = force ? OptionalLong.empty() : recordedRows(role, uri, featureLength());
            if (rows.isPresent()) {
                summaries.put(role, new ExampleTable.Summary(rows.getAsLong(), featureLength()));
                tables.put(role, df);
            } else {
                unchecked.put(role, df);
            }
        }
        return df;
    }

    /** True while the training table's rows wait for the checks of a stage's own pass ({@link #trainForChecksInPass}). */
    public boolean trainChecksPending() {
        return unchecked.containsKey("data.train");
    }

    /**
     * Concludes the checks of a pass over every row of {@link #trainForChecksInPass}'s table, as
     * {@link ExampleTable#validate} would: a {@link BadInputException} naming the problems, or the
     * table counts as checked (its row count known, and its record written once the stage commits).
     * Nothing is done when no checks are pending.
     */
    public void acceptTrainChecks(ExampleChecks checks) throws IOException {
        String role = "data.train";
        Dataset<Row> df = unchecked.get(role);
        if (df == null) {
            return;
        }
        if (checks.featureLength() != featureLength() || checks.numClasses() != config.data().numClasses()) {
            throw new IllegalArgumentException("checks for feature length " + checks.featureLength() + " and "
                    + checks.numClasses() + " classes, expected " + featureLength() + " and "
                    + config.data().numClasses());
        }
        String uri = config.data().train();
        ExampleTable.Summary s = ExampleTable.judge(checks, df, role, files.path(uri).toString());
        unchecked.remove(role);
        summaries.put(role, s);
        tables.put(role, df);
        pendingChecks.put(checksRecord(role), checksRecordJson(role, uri, featureLength(), s.rows()));
    }

    /**
     * Runs {@code job}, a pass over the training table: a job failing on a file it reads throws a
     * {@link BadInputException} naming the file ({@link ExampleTable#reading}).
     */
    public <T> T readingTrain(java.util.concurrent.Callable<T> job) {
        return ExampleTable.reading("data.train", files.path(config.data().train()).toString(), job);
    }

    /**
     * The table's checks ({@link ExampleTable#validate}, a pass over every row). An earlier command on
     * this run directory that checked the same table ({@link #describe}: bytes, files, latest
     * modification; the same data settings and feature length) and then finished a stage left a
     * record in {@value #CHECKS}: its row count is used and the table not read again (each stage
     * command of an Airflow run would otherwise read the training set once more). {@code --force}
     * checks again.
     */
    private ExampleTable.Summary checked(String role, String uri, Dataset<Row> df, int width) throws IOException {
        if (!force) {
            OptionalLong rows = recordedRows(role, uri, width);
            if (rows.isPresent()) {
                return new ExampleTable.Summary(rows.getAsLong(), width);
            }
        }
        ExampleTable.Summary s = ExampleTable.validate(df, role, files.path(uri).toString(), width,
                config.data().numClasses());
        pendingChecks.put(checksRecord(role), checksRecordJson(role, uri, width, s.rows()));
        return s;
    }

    private Path checksRecord(String role) {
        return new Path(new Path(runDir, CHECKS), role + ".json");
    }

    private String checksIdentity(String role, String uri, int width) throws IOException {
        return Hashes.of("role=" + role, describe(role, uri), "data=" + config.renderSection("data"),
                "featureLength=" + width);
    }

    private String checksRecordJson(String role, String uri, int width, long rows) throws IOException {
        ObjectNode r = Json.object();
        r.put("role", role);
        r.put("table", files.path(uri).toString());
        r.put("identity", checksIdentity(role, uri, width));
        r.put("rows", rows);
        r.put("featureLength", width);
        return Json.MAPPER.writeValueAsString(r);
    }

    /**
     * The rows of the table when a record of an earlier command's checks covers it (said on {@link #out}),
     * empty otherwise.
     */
    private OptionalLong recordedRows(String role, String uri, int width) throws IOException {
        Path record = checksRecord(role);
        OptionalLong rows = recordedRows(record, checksIdentity(role, uri, width));
        if (rows.isPresent()) {
            out.printf("%-12s %s: %d rows, the same files an earlier command checked (%s): not read again%n",
                    "checks", role, rows.getAsLong(), record);
        }
        return rows;
    }

    /** The rows a record holds when its identity is {@code identity}; empty when absent, other or unreadable. */
    private OptionalLong recordedRows(Path record, String identity) {
        try {
            if (!files.exists(record)) {
                return OptionalLong.empty();
            }
            var r = Json.MAPPER.readTree(files.readString(record));
            if (identity.equals(r.path("identity").asText()) && r.path("rows").canConvertToLong()
                    && r.path("rows").asLong() > 0) {
                return OptionalLong.of(r.path("rows").asLong());
            }
        } catch (IOException | RuntimeException e) {
            // An unreadable record (a partial write, another format) is as none: the table is checked again.
        }
        return OptionalLong.empty();
    }

    /**
     * Writes the records of the checks this command ran (written then renamed, one per table), for
     * the next command on this run directory; called once a stage has committed its output, so a
     * command that fails leaves none. A record that cannot be written costs the next command a pass.
     */
    public void recordChecks() {
        for (Map.Entry<Path, String> e : pendingChecks.entrySet()) {
            Path tmp = new Path(e.getKey().getParent(), "." + e.getKey().getName() + ".tmp");
            try {
                files.writeString(tmp, e.getValue());
                files.delete(e.getKey());
                if (!files.fs(tmp).rename(tmp, e.getKey())) {
                    throw new IOException("could not rename " + tmp + " to " + e.getKey());
                }
            } catch (IOException ex) {
                System.err.println("pare: could not record the checks of " + e.getKey().getName() + " ("
                        + ex.getMessage() + "); the next command checks the table again");
            }
        }
        pendingChecks.clear();
    }

    /** Row count of a validated table ({@code data.train} or {@code data.test}). */
    public long rows(String role) throws IOException {
        if (role.equals("data.train")) {
            train();
        } else {
            test();
        }
        return summaries.get(role).rows();
    }

    /**
     * {@code uri|bytes|files|lastModified} of an input, for stage hashes, provenance and the check
     * records, from the command's one listing of it ({@link #listing}).
     *
     * @param role the config key it came from, for the message when it is missing
     */
    public String describe(String role, String uri) throws IOException {
        return listing(role, uri).describe();
    }

    /**
     * {@code uri}'s path as this command first listed it ({@link Files#listing}): the table it reads and the
     * one its records and stage identities describe are the same listing, and an object store is asked once.
     */
    private Files.Listing listing(String role, String uri) {
        return listings.computeIfAbsent(uri, u -> ExampleTable.list(files, u, role));
    }

    @Override
    public void close() {
        try {
            if (spark != null) {
                spark.close();
                spark = null;
            }
        } finally {
            try {
                lock.close();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("could not release the lock of " + runDir, e);
            }
        }
    }
}
