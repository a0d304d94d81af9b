package dev.pare.jobs.cli;

import dev.pare.common.config.PareConfig;
import dev.pare.jobs.stage.RunContext;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stage.StageRunner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/** A subcommand that runs one stage. */
abstract class StageCommand implements Callable<Integer> {
    @Mixin
    StageOptions options;

    abstract Stage stage();

    boolean resume() {
        return false;
    }

    @Override
    public Integer call() throws Exception {
        PareConfig cfg = options.loadConfig();
        Stage stage = stage();
        try (RunContext ctx = options.context(cfg, resume())) {
            ctx.executorJitThresholds(!stage.trains());
            StageRunner.run(ctx, stage);
        }
        return 0;
    }
}
