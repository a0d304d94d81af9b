package dev.pare.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.pare.common.datapruning.SelectionMethod;
import dev.pare.common.importance.Criteria;
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

    public record Spark(String master, String appName, Map<String, String> conf) {
        public Spark {
            conf = Map.copyOf(conf);
        }
    }

    public record Calibration(int samples, int partitions, int batchSize) {
        public Calibration {
            Values.positive("calibration.samples", samples);
            Values.positive("calibration.partitions", partitions);
            Values.positive("calibration.batch-size", batchSize);
        }
    }

    public record Score(int batchSize) {
        public Score {
            Values.positive("score.batch-size", batchSize);
        }
    }

    public record Selection(double fraction, SelectionMethod method) {
        public Selection {
            Values.inRange("selection.fraction", fraction, 0, false, 1, true);
        }
    }

    public record Prune(Criteria criterion, double sparsity, boolean pruneOutputLayer) {
        public Prune {
            Values.inRange("prune.sparsity", sparsity, 0, true, 1, false);
        }
    }

    public record Distill(int epochs, int batchSize, double learningRate, double temperature, double alpha) {
        public Distill {
            if (epochs < 0) {
                throw new ConfigError("distill.epochs", epochs, "must be >= 0");
            }
            Values.positive("distill.batch-size", batchSize);
            Values.positive("distill.learning-rate", learningRate);
            Values.positive("distill.temperature", temperature);
            Values.inRange("distill.alpha", alpha, 0, true, 1, true);
        }
    }

    public record Evaluate(int batchSize) {
        public Evaluate {
            Values.positive("evaluate.batch-size", batchSize);
        }
    }

    public record TrainTeacher(String architecture, int epochs, int batchSize, double learningRate) {
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
                new Calibration(cal.integer("samples"), cal.integer("partitions"), cal.integer("batch-size")),
                new Score(sc.integer("batch-size")),
                new Selection(sel.number("fraction"), SelectionMethod.fromName("selection.method", sel.string("method"))),
                new Prune(Criteria.fromName("prune.criterion", p.string("criterion")), p.number("sparsity"),
                        p.bool("prune-output-layer")),
                new Distill(di.integer("epochs"), di.integer("batch-size"), di.number("learning-rate"),
                        di.number("temperature"), di.number("alpha")),
                new Evaluate(ev.integer("batch-size")),
                new TrainTeacher(tt.string("architecture"), tt.integer("epochs"), tt.integer("batch-size"),
                        tt.number("learning-rate")),
                c);
    }

    /** Rules that span sections. */
    public void validate() {
        if (data.idColumn().equals(data.featuresColumn()) || data.idColumn().equals(data.labelColumn())
                || data.featuresColumn().equals(data.labelColumn())) {
            throw new ConfigError("data", "id-column, features-column and label-column must be three different columns");
        }
    }

    /** The whole resolved configuration as compact JSON with sorted keys. */
    public String renderJson() {
        return resolved.root().render(ConfigRenderOptions.concise());
    }

    /** One section (e.g. {@code prune}) as compact JSON with sorted keys; used in stage hashes. */
    public String renderSection(String section) {
        return resolved.getValue(section).render(ConfigRenderOptions.concise());
    }
}
