package dev.pare.jobs.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import java.io.IOException;
import java.time.Instant;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The output folder of one stage under a run directory, written atomically.
 *
 * <p>A stage writes into {@code <run>/_tmp/<stage>/}; {@link #commit()} adds a {@code _SUCCESS}
 * file holding the stage's hash (of its resolved config and inputs) and renames the folder to
 * {@code <run>/<stage>/}. So a folder {@code <run>/<stage>/} with {@code _SUCCESS} is always
 * complete, and a failed stage leaves nothing that looks finished. A later run with the same hash
 * skips the stage; one with a different hash is refused unless forced. A stage that supports
 * resuming (distill) keeps its temporary folder on failure and reuses it when resumed with the
 * same hash.
 */
public final class StageDir {
    public static final String SUCCESS = "_SUCCESS";
    private static final String TMP = "_tmp";
    private static final String HASH_FILE = "_HASH";

    private final Files files;
    private final String stage;
    private final String hash;
    private final Path finalDir;
    private final Path tmpDir;
    private final boolean alreadyDone;

    private StageDir(Files files, String stage, String hash, Path finalDir, Path tmpDir, boolean alreadyDone) {
        this.files = files;
        this.stage = stage;
        this.hash = hash;
        this.finalDir = finalDir;
        this.tmpDir = tmpDir;
        this.alreadyDone = alreadyDone;
    }

    /** Path of stage {@code stage}'s finished folder under {@code runDir}. */
    public static Path finished(Path runDir, String stage) {
        return new Path(runDir, stage);
    }

    /** The hash recorded by a finished stage, or null when it has not finished. */
    public static String finishedHash(Files files, Path runDir, String stage) throws IOException {
        Path success = new Path(finished(runDir, stage), SUCCESS);
        if (!files.exists(success)) {
            return null;
        }
        JsonNode n = Json.MAPPER.readTree(files.readString(success));
        return n.path("hash").asText(null);
    }

    /**
     * Checks the run directory for the stage writing folder {@code stage} (command {@code command}) with {@code hash}. Does not create anything.
     *
     * @param force replace a finished stage whose hash differs (and re-run one whose hash matches)
     * @throws BadInputException when the stage finished with another hash and {@code force} is false
     */
    public static StageDir check(Files files, Path runDir, String stage, String command, String hash, boolean force)
            throws IOException {
        Path fin = finished(runDir, stage);
        String previous = finishedHash(files, runDir, stage);
        boolean done = false;
        if (previous != null) {
            if (previous.equals(hash)) {
                done = !force;
            } else if (!force) {
                throw new BadInputException("run directory " + runDir + ": stage '" + command + "' (folder " + stage + "/) was produced by a"
                        + " different configuration or different inputs (hash " + shortHash(previous) + ", now "
                        + shortHash(hash) + "); rerun with --force to replace it, or choose another --run-dir");
            }
        } else if (files.exists(fin)) {
            // A folder without _SUCCESS is not a finished stage (an older failed write): replaced on commit.
            done = false;
        }
        return new StageDir(files, stage, hash, fin, new Path(new Path(runDir, TMP), stage), done);
    }

    private static String shortHash(String h) {
        return h.length() > 12 ? h.substring(0, 12) : h;
    }

    /** True when this stage already finished with the same hash: the caller skips it. */
    public boolean alreadyDone() {
        return alreadyDone;
    }

    public String stage() {
        return stage;
    }

    public String hash() {
        return hash;
    }

    public Path finalDir() {
        return finalDir;
    }

    /** The folder to write into. */
    public Path tmp() {
        return tmpDir;
    }

    /**
     * Prepares the temporary folder: reused when {@code resume} and it was started with the same
     * hash, otherwise emptied.
     *
     * @return true when an earlier attempt's folder is being resumed
     */
    public boolean begin(boolean resume) throws IOException {
        Path hashFile = new Path(tmpDir, HASH_FILE);
        if (resume && files.exists(hashFile) && files.readString(hashFile).equals(hash)) {
            return true;
        }
        files.delete(tmpDir);
        files.fs(tmpDir).mkdirs(tmpDir);
        files.writeString(hashFile, hash);
        return false;
    }

    /** Marks the stage finished and moves it into place. */
    public void commit() throws IOException {
        ObjectNode s = Json.object();
        s.put("stage", stage);
        s.put("hash", hash);
        s.put("finishedAt", Instant.now().toString());
        files.delete(new Path(tmpDir, HASH_FILE));
        files.writeString(new Path(tmpDir, SUCCESS), Json.MAPPER.writeValueAsString(s));
        FileSystem fs = files.fs(finalDir);
        files.delete(finalDir);
        if (!fs.rename(tmpDir, finalDir)) {
            throw new IOException("could not rename " + tmpDir + " to " + finalDir);
        }
        Path tmpParent = tmpDir.getParent();
        if (fs.exists(tmpParent) && fs.listStatus(tmpParent).length == 0) {
            fs.delete(tmpParent, false);
        }
    }

    /** Removes the temporary folder after a failure (unless {@code keepForResume}). */
    public void abandon(boolean keepForResume) {
        if (keepForResume) {
            return;
        }
        try {
            files.delete(tmpDir);
            Path tmpParent = tmpDir.getParent();
            FileSystem fs = files.fs(tmpParent);
            if (fs.exists(tmpParent) && fs.listStatus(tmpParent).length == 0) {
                fs.delete(tmpParent, false);
            }
        } catch (IOException e) {
            // The original failure matters more; the leftover folder is not marked finished.
            org.slf4j.LoggerFactory.getLogger(StageDir.class).warn("could not remove {}: {}", tmpDir, e.getMessage());
        }
    }
}
