package dev.pare.jobs.stage;

import dev.pare.common.config.PareConfig;
import dev.pare.common.model.Networks;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.spark.Sessions;
import java.io.IOException;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.fs.ContentSummary;
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
    private final PareConfig config;
    private final Files files;
    private final Path runDir;
    private final String master;
    private final boolean force;
    private final boolean resume;
    private final PrintStream out;
    private final RunLock lock;
    private Sessions.Handle spark;
    private byte[] teacherBytes;
    private MultiLayerNetwork teacher;
    private final Map<String, Dataset<Row>> tables = new HashMap<>();
    private final Map<String, ExampleTable.Summary> summaries = new HashMap<>();

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

    public synchronized SparkSession spark() {
        if (spark == null) {
            spark = Sessions.handle(config.spark(), master);
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

    /** Loads the teacher and validates the training table (before a stage writes anything). */
    public void validateTeacherAndTrain() throws IOException {
        teacher();
        train();
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
            int width = featureLength();
            df = ExampleTable.read(spark(), files, uri, role, config.data());
            summaries.put(role, ExampleTable.validate(df, role, files.path(uri).toString(), width,
                    config.data().numClasses()));
            tables.put(role, df);
        }
        return df;
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
     * {@code uri|bytes|files|lastModified} of an input, for stage hashes and provenance.
     *
     * @param role the config key it came from, for the message when it is missing
     */
    public String describe(String role, String uri) throws IOException {
        Path p = files.path(uri);
        boolean exists;
        try {
            exists = files.exists(p);
        } catch (BadInputException e) {
            throw e.in(role);
        }
        if (!exists) {
            throw new BadInputException(role + ": input " + p + " does not exist");
        }
        ContentSummary s = files.summary(p);
        return p + "|" + s.getLength() + "|" + s.getFileCount() + "|" + files.lastModified(p);
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
