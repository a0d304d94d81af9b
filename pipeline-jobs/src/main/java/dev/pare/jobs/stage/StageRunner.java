package dev.pare.jobs.stage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/** Runs stages against a run directory: hash, skip/refuse, validate, execute, provenance, commit. */
public final class StageRunner {
    private StageRunner() {}

    /** The outcome of one stage. */
    public record Outcome(String stage, boolean skipped, double seconds) {}

    public static Outcome run(RunContext ctx, Stage stage) throws Exception {
        List<String> identity = new ArrayList<>();
        identity.add("stage=" + stage.name());
        identity.addAll(stage.identity(ctx));
        String hash = Hashes.of(identity.toArray(String[]::new));
        StageDir dir = StageDir.check(ctx.files(), ctx.runDir(), stage.folder(), stage.name(), hash, ctx.force());
        if (dir.alreadyDone()) {
            ctx.out().printf("%-12s already done with the same config and inputs: skipped (%s)%n", stage.name(),
                    dir.finalDir());
            return new Outcome(stage.name(), true, 0);
        }
        stage.validate(ctx);
        ctx.out().printf("%-12s running%n", stage.name());
        long t0 = System.nanoTime();
        boolean resumed = dir.begin(ctx.resume() && stage.resumable());
        if (resumed) {
            ctx.out().printf("%-12s resuming the interrupted attempt in %s%n", stage.name(), dir.tmp());
        }
        try {
            ObjectNode details = Json.object();
            stage.execute(ctx, dir, details);
            double seconds = (System.nanoTime() - t0) / 1e9;
            ObjectNode prov = Provenance.build(ctx, stage, hash, identity, details, seconds);
            ctx.files().writeString(new Path(dir.tmp(), "provenance.json"), Json.MAPPER.writeValueAsString(prov));
            dir.commit();
            ctx.recordChecks();
            ctx.out().printf("%-12s done in %.1f s -> %s%n", stage.name(), seconds, dir.finalDir());
            return new Outcome(stage.name(), false, seconds);
        } catch (Exception | Error e) {
            if (!stage.resumable()) {
                // A failed job's other tasks may still be writing into the folder about to be removed.
                ctx.awaitRunningTasks();
            }
            dir.abandon(stage.resumable());
            throw e;
        }
    }

    /** The hash a finished upstream stage recorded; throws naming the command to run when missing. */
    public static String upstream(RunContext ctx, String folder, String command) throws java.io.IOException {
        String h = StageDir.finishedHash(ctx.files(), ctx.runDir(), folder);
        if (h == null) {
            throw new dev.pare.jobs.io.BadInputException("run directory " + ctx.runDir() + " has no finished '" + folder
                    + "' stage: run `pare " + command + "` (or `pare run`) first");
        }
        return folder + "=" + h;
    }
}
