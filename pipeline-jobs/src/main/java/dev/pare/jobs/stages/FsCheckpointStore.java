package dev.pare.jobs.stages;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.pare.common.distill.Checkpoint;
import dev.pare.common.distill.CheckpointStore;
import dev.pare.common.distill.EpochMetrics;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.io.Json;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checkpoints in a folder: {@code epoch-NNNN.zip} (network with updater) and
 * {@code epoch-NNNN.json} (metrics so far). Each file is written under a {@code .part} name and
 * renamed, and the JSON is written last, so a checkpoint with both files is complete.
 */
public final class FsCheckpointStore implements CheckpointStore {
    private static final Pattern NAME = Pattern.compile("epoch-(\\d{4})\\.json");
    private final Files files;
    private final Path dir;

    public FsCheckpointStore(Files files, Path dir) {
        this.files = files;
        this.dir = dir;
    }

    @Override
    public Optional<Checkpoint> latest() throws IOException {
        FileSystem fs = files.fs(dir);
        if (!fs.exists(dir)) {
            return Optional.empty();
        }
        int best = -1;
        for (FileStatus s : fs.listStatus(dir)) {
            Matcher m = NAME.matcher(s.getPath().getName());
            if (m.matches() && fs.exists(new Path(dir, zipName(Integer.parseInt(m.group(1)))))) {
                best = Math.max(best, Integer.parseInt(m.group(1)));
            }
        }
        return best < 0 ? Optional.empty() : at(best);
    }

    @Override
    public Optional<Checkpoint> at(int epoch) throws IOException {
        Path json = new Path(dir, jsonName(epoch));
        Path zip = new Path(dir, zipName(epoch));
        if (!files.exists(json) || !files.exists(zip)) {
            return Optional.empty();
        }
        List<EpochMetrics> history = Json.MAPPER.readValue(files.readString(json),
                new TypeReference<List<EpochMetrics>>() {});
        Path masks = new Path(dir, masksName(epoch));
        return Optional.of(new Checkpoint(epoch, files.readBytes(zip), history,
                files.exists(masks) ? files.readBytes(masks) : null));
    }

    @Override
    public void save(Checkpoint c) throws IOException {
        writeAtomically(new Path(dir, zipName(c.epoch())), c.model());
        if (c.masks() != null) {
            writeAtomically(new Path(dir, masksName(c.epoch())), c.masks());
        }
        writeAtomically(new Path(dir, jsonName(c.epoch())), Json.MAPPER.writeValueAsBytes(c.history()));
    }

    private void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path part = new Path(target.getParent(), target.getName() + ".part");
        files.writeBytes(part, bytes);
        FileSystem fs = files.fs(target);
        fs.delete(target, false);
        if (!fs.rename(part, target)) {
            throw new IOException("could not rename " + part + " to " + target);
        }
    }

    private static String zipName(int epoch) {
        return String.format("epoch-%04d.zip", epoch);
    }

    private static String masksName(int epoch) {
        return String.format("epoch-%04d.masks", epoch);
    }

    private static String jsonName(int epoch) {
        return String.format("epoch-%04d.json", epoch);
    }
}
