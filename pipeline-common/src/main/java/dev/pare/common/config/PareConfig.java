package dev.pare.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.pare.common.datapruning.ScoreKind;
import dev.pare.common.datapruning.SelectionMethod;
import dev.pare.common.distill.DistillEngine;
import dev.pare.common.distill.LrSchedule;
import dev.pare.common.calibration.Precision;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.importance.Criteria;
import dev.pare.common.sparsity.SparsityAllocation;
import dev.pare.common.sparsity.SparsityPattern;
import dev.pare.common.train.InputShape;
import java.util.List;
import java.util.Map;

/**
 * The resolved configuration of a Pare run: one immutable record per section of
 * {@code reference.conf}. Each record checks its own fields in its compact constructor;
 * {@link #validate()} checks rules that span sections.
 *
 * @param resolved the merged HOCON tree, kept to write next to every output and to hash per stage
 */
public record PareConfig(
        long seed,
        Data data,
        Teacher teacher,
        Spark spark,
        Calibration calibration,
        Score score,
        Selection selection,
        Prune prune,
        Distill distill,
        Evaluate evaluate,
        TrainTeacher trainTeacher,
        Config resolved) {

    /** Where the examples are and how their columns are named. */
    public record Data(String train, String test, String idColumn, String featuresColumn, String labelColumn,
                       int numClasses) {
        public Data {
            Values.positive("data.num-classes", numClasses);
            if (numClasses < 2) {
                throw new ConfigError("data.num-classes", numClasses, "must be >= 2");
            }
        }
    }

    public record Teacher(String model) {}

    /** @param conf extra Spark settings; {@link #toString()} shows sensitive values redacted */
    public record Spark(String master, String appName, Map<String, String> conf) {
        public Spark {
            conf = Map.copyOf(conf);
        }

        @Override
        public String toString() {
            return "Spark[master=" + master + ", appName=" + appName + ", conf="
                    + Redaction.settings(new java.util.TreeMap<>(conf)) + "]";
        }
    }

    public record Calibration(int samples, int partitions, int batchSize, int gradientBatchSize, long maxGramBytes,
                              Precision precision) {
        public Calibration {
            Values.positive("calibration.samples", samples);
            Values.positive("calibration.partitions", partitions);
            Values.positive("calibration.batch-size", batchSize);
            Values.positive("calibration.gradient-batch-size", gradientBatchSize);
            if (maxGramBytes <= 0) {
                throw new ConfigError("calibration.max-gram-bytes", maxGramBytes, "must be > 0");
            }
        }
    }

    public record Score(int batchSize) {
        public Score {
            Values.positive("score.batch-size", batchSize);
        }
    }

    /**
     * @param ccsStrata number of equal-width score strata of ccs
     * @param ccsDropHardest share β of the hardest examples ccs drops before stratifying
     */
    public record Selection(double fraction, SelectionMethod method, ScoreKind score, boolean classBalanced,
                            int ccsStrata, double ccsDropHardest, int histogramBins) {
        public Selection {
            Values.inRange("selection.fraction", fraction, 0, false, 1, true);
            Values.positive("selection.ccs.strata", ccsStrata);
            Values.inRange("selection.ccs.drop-hardest", ccsDropHardest, 0, true, 1, false);
            Values.positive("selection.histogram-bins", histogramBins);
        }
    }

    /**
     * @param n kept weights per group of {@code m} (pattern n-of-m)
     * @param removeLayers how many layers to remove (pattern layers)
     */
    public record Prune(Criteria criterion, SparsityPattern pattern, double sparsity, int n, int m,
                        SparsityAllocation.Method allocation, double outlierThreshold, double outlierBand, List<String> include,
                        List<String> exclude, boolean pruneOutputLayer, int removeLayers, int sparseGptBlockSize,
                        double sparseGptDamping) {
        public Prune {
            Values.inRange("prune.sparsity", sparsity, 0, true, 1, false);
            Values.positive("prune.n-of-m.n", n);
            Values.positive("prune.n-of-m.m", m);
            if (n >= m) {
                throw new ConfigError("prune.n-of-m.n", n, "must be smaller than prune.n-of-m.m (" + m + ")");
            }
            Values.positive("prune.outlier-weighted.threshold", outlierThreshold);
            Values.inRange("prune.outlier-weighted.band", outlierBand, 0, true, 1, false);
            Values.positive("prune.remove-layers", removeLayers);
            Values.positive("prune.sparsegpt.block-size", sparseGptBlockSize);
            Values.inRange("prune.sparsegpt.damping", sparseGptDamping, 0, false, 1, true);
            include = List.copyOf(include);
            exclude = List.copyOf(exclude);
            try {
                dev.pare.common.sparsity.LayerFilter.of(include, exclude);
            } catch (IllegalArgumentException e) {
                throw new ConfigError("prune.include-layers / exclude-layers", include + " / " + exclude, e.getMessage());
            }
            if (!criterion.supports(pattern)) {
                throw new ConfigError("prune.criterion", criterion.configName(), "does not support prune.pattern = "
                        + pattern.configName() + "; criteria for it: " + Criteria.supporting(pattern));
            }
            if (allocation != SparsityAllocation.Method.UNIFORM && pattern != SparsityPattern.UNSTRUCTURED) {
                throw new ConfigError("prune.allocation", allocation.configName(), "only uniform applies to pattern "
                        + pattern.configName());
            }
            if (allocation == SparsityAllocation.Method.GLOBAL && criterion == Criteria.SPARSEGPT) {
                throw new ConfigError("prune.allocation", allocation.configName(), "sparsegpt chooses masks layer by"
                        + " layer while it reconstructs; use uniform or outlier-weighted");
            }
            if (allocation == SparsityAllocation.Method.GLOBAL && criterion == Criteria.WANDA) {
                throw new ConfigError("prune.allocation", allocation.configName(), "wanda scores scale with each"
                        + " layer's input norms and are compared within each output neuron, so one threshold across"
                        + " layers is meaningless; use uniform or outlier-weighted, or global with magnitude, taylor"
                        + " or fisher");
            }
        }

        /** The calibration statistics this pruning reads (INPUT_NORMS always, for reports and allocation). */
        public java.util.Set<Statistic> statistics() {
            java.util.EnumSet<Statistic> s = java.util.EnumSet.of(Statistic.INPUT_NORMS);
            s.addAll(criterion.needs());
            return s;
        }
    }

    /**
     * @param validationFraction share of the selected subset held out (seeded) for early stopping and
     *     best-epoch selection; 0 = none
     * @param patience epochs without a better validation accuracy before stopping; 0 = never
     * @param engine how a training step is computed ({@link DistillEngine})
     * @param distributed data-parallel training on the executors instead of the driver loop
     */
    public record Distill(int epochs, int batchSize, double learningRate, double temperature, double alpha,
                          LrSchedule lrSchedule, int stepEvery, double stepGamma, double validationFraction,
                          int patience, boolean keepBest, Gradual gradual, DistillEngine engine, Hidden hidden,
                          Distributed distributed) {
        public Distill {
            Values.positive("distill.step.every", stepEvery);
            Values.inRange("distill.step.gamma", stepGamma, 0, true, 1, true);
            Values.inRange("distill.validation-fraction", validationFraction, 0, true, 1, false);
            if (patience < 0) {
                throw new ConfigError("distill.early-stopping-patience", patience, "must be >= 0");
            }
            if (patience > 0 && validationFraction == 0) {
                throw new ConfigError("distill.early-stopping-patience", patience, "needs a validation split:"
                        + " set distill.validation-fraction > 0 (the test split is never used to choose)");
            }
            if (epochs < 0) {
                throw new ConfigError("distill.epochs", epochs, "must be >= 0");
            }
            Values.positive("distill.batch-size", batchSize);
            Values.positive("distill.learning-rate", learningRate);
            Values.positive("distill.temperature", temperature);
            Values.inRange("distill.alpha", alpha, 0, true, 1, true);
        }
    }

    /**
     * Gradual pruning during distillation: the cubic schedule from {@code initialSparsity} (the
     * one-shot {@code prune} stage's sparsity) to {@code prune.sparsity}.
     */
    public record Gradual(boolean enabled, double initialSparsity, long startStep, int steps, long interval) {
        public Gradual {
            Values.inRange("distill.gradual.initial-sparsity", initialSparsity, 0, true, 1, false);
            if (startStep < 0) {
                throw new ConfigError("distill.gradual.start-step", startStep, "must be >= 0");
            }
            Values.positive("distill.gradual.steps", steps);
            if (interval <= 0) {
                throw new ConfigError("distill.gradual.interval", interval, "must be > 0");
            }
        }
    }

    /**
     * Hidden-state KD ({@link dev.pare.common.distill.HiddenStates}): weight β of the MSE between
     * paired hidden layers (0 = off) and the layers (names or indices; empty = every hidden dense layer).
     */
    public record Hidden(double weight, java.util.List<String> layers) {
        public Hidden {
            if (!(weight >= 0) || !Double.isFinite(weight)) {
                throw new ConfigError("distill.hidden.weight", weight, "must be >= 0 (0 turns hidden-state KD off)");
            }
            layers = java.util.List.copyOf(layers);
        }

        public boolean enabled() {
            return weight > 0;
        }
    }

    /**
     * Data-parallel distillation with dl4j-spark's parameter averaging.
     *
     * @param workers model replicas trained in parallel; 0 = Spark's default parallelism
     * @param averagingFrequency minibatches each worker trains between two averagings
     */
    public record Distributed(boolean enabled, int workers, int averagingFrequency) {
        public Distributed {
            if (workers < 0) {
                throw new ConfigError("distill.distributed.workers", workers, "must be >= 0 (0 = Spark's default"
                        + " parallelism)");
            }
            Values.positive("distill.distributed.averaging-frequency", averagingFrequency);
        }
    }

    public record Evaluate(int batchSize, int latencyBatchSize, int latencyRuns) {
        public Evaluate {
            Values.positive("evaluate.latency-batch-size", latencyBatchSize);
            Values.positive("evaluate.latency-runs", latencyRuns);
            Values.positive("evaluate.batch-size", batchSize);
        }
    }

    public record TrainTeacher(String architecture, InputShape inputShape, int epochs, int batchSize,
                               double learningRate) {
        public TrainTeacher {
            Values.positive("train-teacher.epochs", epochs);
            Values.positive("train-teacher.batch-size", batchSize);
            Values.positive("train-teacher.learning-rate", learningRate);
        }
    }

    /** Builds the typed view of a resolved tree (keys without the {@code pare.} prefix). */
    public static PareConfig from(Config c) {
        Values root = new Values(c);
        Values d = new Values(c, "data");
        Values t = new Values(c, "teacher");
        Values s = new Values(c, "spark");
        Values cal = new Values(c, "calibration");
        Values sc = new Values(c, "score");
        Values sel = new Values(c, "selection");
        Values p = new Values(c, "prune");
        Values di = new Values(c, "distill");
        Values ev = new Values(c, "evaluate");
        Values tt = new Values(c, "train-teacher");
        return new PareConfig(
                root.longValue("seed"),
                new Data(d.string("train"), d.string("test"), d.string("id-column"), d.string("features-column"),
                        d.string("label-column"), d.integer("num-classes")),
                new Teacher(t.string("model")),
                new Spark(s.string("master"), s.string("app-name"), s.stringMap("conf")),
                new Calibration(cal.integer("samples"), cal.integer("partitions"), cal.integer("batch-size"),
                        cal.integer("gradient-batch-size"), cal.longValue("max-gram-bytes"),
                        Precision.fromName("calibration.precision", cal.string("precision"))),
                new Score(sc.integer("batch-size")),
                new Selection(sel.number("fraction"), SelectionMethod.fromName("selection.method", sel.string("method")),
                        ScoreKind.fromName("selection.score", sel.string("score")), sel.bool("class-balanced"),
                        sel.integer("ccs.strata"), sel.number("ccs.drop-hardest"), sel.integer("histogram-bins")),
                new Prune(Criteria.fromName("prune.criterion", p.string("criterion")),
                        SparsityPattern.fromName("prune.pattern", p.string("pattern")), p.number("sparsity"),
                        p.integer("n-of-m.n"), p.integer("n-of-m.m"),
                        SparsityAllocation.Method.fromName("prune.allocation", p.string("allocation")),
                        p.number("outlier-weighted.threshold"), p.number("outlier-weighted.band"),
                        p.stringList("include-layers"), p.stringList("exclude-layers"), p.bool("prune-output-layer"),
                        p.integer("remove-layers"), p.integer("sparsegpt.block-size"), p.number("sparsegpt.damping")),
                new Distill(di.integer("epochs"), di.integer("batch-size"), di.number("learning-rate"),
                        di.number("temperature"), di.number("alpha"),
                        LrSchedule.fromName("distill.lr-schedule", di.string("lr-schedule")), di.integer("step.every"),
                        di.number("step.gamma"), di.number("validation-fraction"),
                        di.integer("early-stopping-patience"), di.bool("keep-best"),
                        new Gradual(di.bool("gradual.enabled"), di.number("gradual.initial-sparsity"),
                                di.longValue("gradual.start-step"), di.integer("gradual.steps"),
                                di.longValue("gradual.interval")),
                        DistillEngine.fromName("distill.engine", di.string("engine")),
                        new Hidden(di.number("hidden.weight"), di.stringList("hidden.layers")),
                        new Distributed(di.bool("distributed.enabled"), di.integer("distributed.workers"),
                                di.integer("distributed.averaging-frequency"))),
                new Evaluate(ev.integer("batch-size"), ev.integer("latency-batch-size"), ev.integer("latency-runs")),
                new TrainTeacher(tt.string("architecture"), inputShape(tt.intList("input-shape")), tt.integer("epochs"),
                        tt.integer("batch-size"),
                        tt.number("learning-rate")),
                c);
    }

    private static InputShape inputShape(int[] dims) {
        if (dims.length != 3 || dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0) {
            throw new ConfigError("train-teacher.input-shape", java.util.Arrays.toString(dims),
                    "must be three positive numbers [channels, height, width]");
        }
        return new InputShape(dims[0], dims[1], dims[2]);
    }

    /** Rules that span sections. */
    public void validate() {
        if (distill.gradual().enabled()) {
            if (prune.pattern() != SparsityPattern.UNSTRUCTURED || prune.criterion() == Criteria.SPARSEGPT
                    || prune.criterion().criterion() == null) {
                throw new ConfigError("distill.gradual.enabled", true, "gradual pruning recomputes unstructured masks"
                        + " by a weight criterion (magnitude, wanda, taylor, fisher); prune.pattern is "
                        + prune.pattern().configName() + " and prune.criterion " + prune.criterion().configName());
            }
            if (distill.gradual().initialSparsity() > prune.sparsity()) {
                throw new ConfigError("distill.gradual.initial-sparsity", distill.gradual().initialSparsity(),
                        "must not exceed the final sparsity prune.sparsity = " + prune.sparsity());
            }
        }
        if (distill.distributed().enabled()) {
            if (distill.gradual().enabled()) {
                throw new ConfigError("distill.distributed.enabled", true, "gradual pruning (distill.gradual.enabled)"
                        + " recomputes the masks at optimizer steps of one network, which data-parallel workers do not"
                        + " share; turn one of them off");
            }
            if (distill.engine() == DistillEngine.FUSED) {
                throw new ConfigError("distill.engine", distill.engine().configName(), "is driver-only; with"
                        + " distill.distributed.enabled = true the workers train with DL4J's fit: use auto or dl4j");
            }
            if (distill.hidden().enabled()) {
                throw new ConfigError("distill.hidden.weight", distill.hidden().weight(), "hidden-state KD runs in"
                        + " the driver's fused step; with distill.distributed.enabled = true the workers train with"
                        + " DL4J's fit: set it to 0 or turn distributed off");
            }
        }
        if (data.idColumn().equals(data.featuresColumn()) || data.idColumn().equals(data.labelColumn())
                || data.featuresColumn().equals(data.labelColumn())) {
            throw new ConfigError("data", "id-column, features-column and label-column must be three different columns");
        }
    }

    /** The resolved configuration as {@link #renderJson()} shows it (sensitive values redacted). */
    @Override
    public String toString() {
        return "PareConfig" + renderJson();
    }

    /**
     * The whole resolved configuration as compact JSON with sorted keys, for provenance: the values
     * of sensitive keys ({@link Redaction}) are replaced, their keys kept.
     */
    public String renderJson() {
        return Redaction.config(resolved).root().render(ConfigRenderOptions.concise());
    }

    /** One section (e.g. {@code prune}) as compact JSON with sorted keys; used in stage hashes. */
    public String renderSection(String section) {
        return resolved.getValue(section).render(ConfigRenderOptions.concise());
    }
}
