package dev.pare.jobs.cli;

import dev.pare.common.config.ConfigError;
import dev.pare.common.model.ModelFormatException;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.spark.DriverNative;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pare} command line. Exit codes: 0 success, 2 bad input or config, 1 any other failure. */
@Command(name = "pare", mixinStandardHelpOptions = true, versionProvider = PareCli.Version.class,
        description = "Prune a trained network and recover its accuracy by knowledge distillation, on Apache Spark.",
        subcommands = {
            ImportIdxCommand.class, TrainTeacherCommand.class, Commands.Calibrate.class, Commands.ScoreData.class,
            Commands.SelectData.class, Commands.Prune.class, Commands.Distill.class, Commands.Evaluate.class,
            Commands.Report.class, RunCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Each stage writes <run-dir>/<stage>/ atomically with a _SUCCESS hash; rerunning a finished stage"
                + " with the same config is a no-op, with a different config it is refused unless --force."})
public final class PareCli {
    public static final int BAD_INPUT = 2;

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pare " + dev.pare.jobs.stage.Provenance.version("dev.pare", "pipeline-jobs")};
        }
    }

    private PareCli() {}

    /** Builds the command line with Pare's error handling (for main and tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new PareCli());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable t = e;
            if (t instanceof java.io.UncheckedIOException u && u.getCause() != null) {
                t = u.getCause();
            }
            PrintWriter err = commandLine.getErr();
            if (t instanceof ConfigError || t instanceof ModelFormatException || t instanceof BadInputException) {
                err.println("pare: error: " + t.getMessage());
                err.flush();
                return BAD_INPUT;
            }
            err.println("pare: " + commandLine.getCommandName() + " failed: " + t);
            t.printStackTrace(err);
            err.flush();
            return 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        // Before anything loads ND4J's native libraries: each reads its settings once, when it loads.
        DriverNative.prepare();
        System.exit(commandLine().execute(args));
    }
}
