package dev.pare.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pare.common.config.PareConfig;
import dev.pare.jobs.io.Json;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageDir;
import dev.pare.jobs.stage.StageRunner;
import dev.pare.jobs.stages.Pipeline;
import dev.pare.jobs.stages.ReportStage;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pare run}: every stage in order, skipping those already finished with the same config. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline: calibrate, score-data, select-data, prune, distill, evaluate, report."
                + " Finished stages with the same config and inputs are skipped; prints a summary at the end.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    StageOptions options;

    @Option(names = "--resume", description = "Continue an interrupted distill from its last epoch checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        PareConfig cfg = options.loadConfig();
        try (RunContext ctx = options.context(cfg, resume)) {
            // Validate every input up front so a bad file stops the run before any stage writes. The training
            // set's rows are checked by calibrate's sample pass when calibrate runs (before it writes anything),
            // else by the first stage that reads them.
            ctx.teacher();
            ctx.trainForChecksInPass();
            ctx.test();
            for (Stage s : Pipeline.stages()) {
                StageRunner.run(ctx, s);
            }
            printSummary(ctx);
        }
        return 0;
    }

    private static void printSummary(RunContext ctx) throws java.io.IOException {
        Path report = StageDir.finished(ctx.runDir(), ReportStage.FOLDER);
        JsonNode r = Json.MAPPER.readTree(ctx.files().readString(new Path(report, "report.json")));
        var out = ctx.out();
        out.println();
        out.println("Summary");
        out.printf("  teacher accuracy   %.4f  (%d parameters)%n", r.path("teacher").path("accuracy").asDouble(),
                r.path("params").path("teacher").asLong());
        out.printf("  one-shot accuracy  %.4f  (%s, target sparsity %.2f, achieved %.4f)%n",
                r.path("pruned").path("accuracy").asDouble(), r.path("sparsity").path("criterion").asText(),
                r.path("sparsity").path("target").asDouble(), r.path("sparsity").path("achieved").asDouble());
        JsonNode student = r.path("student");
        int ran = student.path("epochs").size();
        String chosen = student.has("chosenEpoch") && student.path("chosenEpoch").asInt() != ran
                ? ", best validation epoch " + student.path("chosenEpoch").asInt() : "";
        out.printf("  student accuracy   %.4f  (%d non-zero parameters, %d KD epochs%s%s on %d selected examples)%n",
                student.path("accuracy").asDouble(), r.path("params").path("studentNonZero").asLong(), ran,
                student.path("stoppedEarly").asBoolean() ? " (stopped early)" : "", chosen,
                r.path("data").path("keptCount").asLong());
        out.print("  stage seconds     ");
        r.path("stages").fields().forEachRemaining(e ->
                out.printf(" %s %.1f", e.getKey(), e.getValue().path("seconds").asDouble()));
        out.println();
        out.println("  report             " + new Path(report, "report.html"));
    }
}
