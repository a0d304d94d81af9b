package dev.pare.jobs.cli;

import dev.pare.common.config.ConfigError;
import dev.pare.common.model.ModelFormatException;
import dev.pare.jobs.io.BadInputException;
import dev.pare.jobs.spark.DriverNative;
import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stages.Pipeline;
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
            DriverNative.nd4jLoadFailure().ifPresent(f -> {
                err.println("pare: loading ND4J's native backend failed before (thread pare-nd4j-load):");
                f.printStackTrace(err);
            });
            err.flush();
            return 1;
        });
        return cl;
    }

    /**
     * Whether {@code args} run a command whose driver reads or runs a network: the command of a stage that says so
     * ({@link Stage#networksOnDriver}), {@code run} or {@code train-teacher}. Decided from the command's name
     * before anything is parsed, so that ND4J loads while picocli, the configuration and Spark start.
     */
    static boolean networksOnDriver(String[] args) {
        if (args.length == 0) {
            return false;
        }
        String command = args[0];
        return command.equals("run") || command.equals("train-teacher")
                || Pipeline.stages().stream().anyMatch(s -> s.name().equals(command) && s.networksOnDriver());
    }

    public static void main(String[] args) {
        // Before anything loads ND4J's native libraries: each reads its settings once, when it loads.
        DriverNative.prepare();
        if (networksOnDriver(args)) {
            DriverNative.preloadNd4j();
        }
        System.exit(commandLine().execute(args));
    }
}
