package dev.pare.jobs.cli;

import dev.pare.jobs.stage.Stage;
import dev.pare.jobs.stages.CalibrateStage;
import dev.pare.jobs.stages.DistillStage;
import dev.pare.jobs.stages.EvaluateStage;
import dev.pare.jobs.stages.PruneStage;
import dev.pare.jobs.stages.ReportStage;
import dev.pare.jobs.stages.ScoreDataStage;
import dev.pare.jobs.stages.SelectDataStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The stage subcommands. */
final class Commands {
    private Commands() {}

    @Command(name = "calibrate", mixinStandardHelpOptions = true,
            description = "Per-layer input statistics of the teacher on a seeded calibration sample (Spark executors)."
                    + " Writes <run-dir>/calibration/.")
    static final class Calibrate extends StageCommand {
        @Override
        Stage stage() {
            return new CalibrateStage();
        }
    }

    @Command(name = "score-data", mixinStandardHelpOptions = true,
            description = "Teacher logits, loss and EL2N for every training example (Spark executors)."
                    + " Writes <run-dir>/example-scores/scores.parquet.")
    static final class ScoreData extends StageCommand {
        @Override
        Stage stage() {
            return new ScoreDataStage();
        }
    }

    @Command(name = "select-data", mixinStandardHelpOptions = true,
            description = "Keep a fraction of the training set (random, hardest, easiest or ccs by a teacher score, optionally class-balanced), ranked by Spark."
                    + " Writes <run-dir>/subset/.")
    static final class SelectData extends StageCommand {
        @Override
        Stage stage() {
            return new SelectDataStage();
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = "One-shot pruning of the teacher (magnitude or wanda, uniform per-layer sparsity) on the driver."
                    + " Writes <run-dir>/pruned/.")
    static final class Prune extends StageCommand {
        @Override
        Stage stage() {
            return new PruneStage();
        }
    }

    @Command(name = "distill", mixinStandardHelpOptions = true,
            description = "Knowledge distillation of the pruned student on the selected subset with the teacher's logits"
                    + " (driver). Writes <run-dir>/distill/.")
    static final class Distill extends StageCommand {
        @Option(names = "--resume", description = "Continue an interrupted distill from its last epoch checkpoint.")
        boolean resume;

        @Override
        Stage stage() {
            return new DistillStage();
        }

        @Override
        boolean resume() {
            return resume;
        }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = "Accuracy, loss, teacher agreement and per-class accuracy of the teacher, pruned and student"
                    + " models (those in the run directory) and of any --model on the test split (data.test; Spark"
                    + " executors). Writes <run-dir>/eval/<name>.json.")
    static final class Evaluate extends StageCommand {
        @Option(names = "--model", paramLabel = "NAME=FILE",
                description = "Also evaluate this DL4J model file (any Hadoop URI) as eval/NAME.json (repeatable).")
        java.util.Map<String, String> models = new java.util.LinkedHashMap<>();

        @Override
        Stage stage() {
            return new EvaluateStage(models);
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "report.json and a self-contained report.html from the finished stages. Writes <run-dir>/report/.")
    static final class Report extends StageCommand {
        @Override
        Stage stage() {
            return new ReportStage();
        }
    }
}
