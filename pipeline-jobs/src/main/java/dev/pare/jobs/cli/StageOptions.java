package dev.pare.jobs.cli;

import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.spark.Sessions;
import dev.pare.jobs.stage.RunContext;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options every stage command takes. */
public final class StageOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "HOCON config file (keys as in reference.conf, without the 'pare.' prefix). Default: built-in defaults.")
    File config;

    @Option(names = {"-r", "--run-dir"}, paramLabel = "DIR", required = true,
            description = "Run directory: every stage writes its folder here (local path or Hadoop URI).")
    String runDir;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override one config key, e.g. --set prune.sparsity=0.7 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] or spark://host:7077. Default: spark.master from spark-submit, else the config's spark.master (local[*]).")
    String master;

    @Option(names = "--force",
            description = "Re-run stages that already finished, replacing their output even if their config changed.")
    boolean force;

    PareConfig loadConfig() {
        return ConfigLoader.load(config, overrides);
    }

    RunContext context(PareConfig cfg, boolean resume) {
        Files files = new Files(Sessions.hadoopConfiguration(cfg.spark()));
        return new RunContext(cfg, files, files.path(runDir), master, force, resume, System.out);
    }
}
