package dev.pare.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.datapruning.SelectionMethod;
import dev.pare.common.importance.Criteria;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {


    private static ConfigError failing(String... sets) {
        return assertThrows(ConfigError.class, () -> ConfigLoader.load(null, List.of(sets)), String.join(" ", sets));
    }

    private static void assertMessageContains(ConfigError e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void defaultsLoad() {
        PareConfig c = ConfigLoader.load(null, List.of());
        assertEquals(0L, c.seed());
        assertEquals(10, c.data().numClasses());
        assertEquals("id", c.data().idColumn());
        assertEquals("local[*]", c.spark().master());
        assertTrue(c.spark().conf().isEmpty());
        assertEquals(2048, c.calibration().samples());
        assertEquals(4, c.calibration().partitions());
        assertEquals(0.5, c.selection().fraction());
        assertEquals(SelectionMethod.RANDOM, c.selection().method());
        assertEquals(Criteria.WANDA, c.prune().criterion());
        assertEquals(0.5, c.prune().sparsity());
        assertFalse(c.prune().pruneOutputLayer());
        assertEquals(2, c.distill().epochs());
        assertEquals(4.0, c.distill().temperature());
        assertEquals(0.5, c.distill().alpha());
        assertEquals(0.001, c.distill().learningRate());
        assertEquals("lenet-300-100", c.trainTeacher().architecture());
        assertEquals(ConfigLoader.load(null, null).renderJson(), c.renderJson(), "null overrides mean none");
    }

    @Test
    void setOverridesApply() {
        PareConfig c = ConfigLoader.load(null, List.of("prune.sparsity=0.7", "prune.criterion=magnitude",
                "selection.method = hardest", "seed=123", "prune.prune-output-layer=true"));
        assertEquals(0.7, c.prune().sparsity());
        assertEquals(Criteria.MAGNITUDE, c.prune().criterion());
        assertEquals(SelectionMethod.HARDEST, c.selection().method());
        assertEquals(123L, c.seed());
        assertTrue(c.prune().pruneOutputLayer());
        assertTrue(c.renderSection("prune").contains("0.7"), c.renderSection("prune"));
    }

    @Test
    void laterSetWins() {
        assertEquals(0.3, ConfigLoader.load(null, List.of("prune.sparsity=0.7", "prune.sparsity=0.3")).prune().sparsity());
    }

    @Test
    void valueThatIsNotHoconIsTakenAsAString() {
        PareConfig c = ConfigLoader.load(null, List.of("data.train=s3a://bucket/train.parquet"));
        assertEquals("s3a://bucket/train.parquet", c.data().train());
    }

    @Test
    void unknownKeyNamesItAndSuggestsTheNearOne() {
        ConfigError e = failing("prune.sparsty=0.5");
        assertMessageContains(e, "prune.sparsty", "unknown key", "prune.sparsity");
        assertEquals("prune.sparsty", e.path());
    }

    @Test
    void unknownKeyFarFromAnyListsTheSiblings() {
        ConfigError e = failing("prune.aggressiveness=0.5");
        assertMessageContains(e, "prune.aggressiveness", "prune.criterion", "prune.sparsity", "prune.prune-output-layer");
    }

    @Test
    void wrongTypeNamesTheKey() {
        ConfigError e = failing("prune.sparsity=abc");
        assertMessageContains(e, "prune.sparsity", "abc", "must be a number");
        assertMessageContains(failing("calibration.samples=lots"), "calibration.samples", "must be a whole number");
        assertMessageContains(failing("prune.prune-output-layer=maybe"), "prune.prune-output-layer", "true or false");
    }

    @ParameterizedTest
    @CsvSource({
        "prune.sparsity, 1.0",
        "prune.sparsity, -0.1",
        "selection.fraction, 0",
        "selection.fraction, 1.5",
        "distill.temperature, 0",
        "distill.alpha, 1.5",
        "distill.alpha, -0.5",
        "distill.epochs, -1",
        "distill.learning-rate, 0",
        "distill.distributed.workers, -1",
        "distill.distributed.averaging-frequency, 0",
        "calibration.samples, 0",
        "calibration.partitions, -2",
        "score.batch-size, 0",
        "data.num-classes, 1"})
    void outOfRangeValuesThrowNamingTheKey(String key, String value) {
        ConfigError e = failing(key + "=" + value);
        assertMessageContains(e, "'" + key + "'", value);
        assertEquals(key, e.path());
    }

    @Test
    void boundaryValuesAreAccepted() {
        PareConfig c = ConfigLoader.load(null, List.of("prune.sparsity=0", "selection.fraction=1", "distill.alpha=0",
                "distill.epochs=0"));
        assertEquals(0.0, c.prune().sparsity());
        assertEquals(1.0, c.selection().fraction());
        assertEquals(0.0, c.distill().alpha());
        assertEquals(1.0, ConfigLoader.load(null, List.of("distill.alpha=1")).distill().alpha());
    }

    @Test
    void unknownCriterionListsTheValidOnes() {
        ConfigError e = failing("prune.criterion=obs");
        assertMessageContains(e, "prune.criterion", "obs", "magnitude, wanda, taylor, fisher, sparsegpt");
    }

    @Test
    void criterionThatCannotDoThePatternNamesTheOnesThatCan() {
        assertMessageContains(failing("prune.criterion=wanda", "prune.pattern=structured"), "prune.criterion", "wanda",
                "structured", "magnitude, taylor, fisher, activation");
        assertMessageContains(failing("prune.criterion=activation"), "prune.criterion", "unstructured");
        assertMessageContains(failing("prune.pattern=blocks"), "prune.pattern", "unstructured, n-of-m, structured, layers");
    }

    @Test
    void allocationRulesAreChecked() {
        assertMessageContains(failing("prune.allocation=global"), "prune.allocation", "wanda");
        assertMessageContains(failing("prune.criterion=sparsegpt", "prune.allocation=global"), "sparsegpt");
        assertMessageContains(failing("prune.pattern=n-of-m", "prune.allocation=outlier-weighted"), "only uniform");
        assertMessageContains(failing("prune.n-of-m.n=4"), "prune.n-of-m.n", "smaller than");
        assertMessageContains(failing("prune.outlier-weighted.band=1"), "prune.outlier-weighted.band");
        PareConfig c = ConfigLoader.load(null, List.of("prune.criterion=magnitude", "prune.allocation=global",
                "prune.include-layers=[\"fc*\"]", "prune.exclude-layers=[fc3]"));
        assertEquals(dev.pare.common.sparsity.SparsityAllocation.Method.GLOBAL, c.prune().allocation());
        assertEquals(List.of("fc*"), c.prune().include());
        assertEquals(List.of("fc3"), c.prune().exclude());
        assertMessageContains(failing("prune.exclude-layers=[\"\"]"), "prune.include-layers / exclude-layers");
    }

    @Test
    void statisticsFollowTheCriterion() {
        assertEquals(java.util.Set.of(dev.pare.common.calibration.Statistic.INPUT_NORMS),
                ConfigLoader.load(null, List.of("prune.criterion=magnitude")).prune().statistics());
        assertEquals(java.util.Set.of(dev.pare.common.calibration.Statistic.INPUT_NORMS,
                        dev.pare.common.calibration.Statistic.GRAM),
                ConfigLoader.load(null, List.of("prune.criterion=sparsegpt")).prune().statistics());
        assertEquals(java.util.Set.of(dev.pare.common.calibration.Statistic.INPUT_NORMS,
                        dev.pare.common.calibration.Statistic.GRADIENTS),
                ConfigLoader.load(null, List.of("prune.criterion=fisher")).prune().statistics());
    }

    @Test
    void distillScheduleAndEarlyStoppingRules() {
        PareConfig c = ConfigLoader.load(null, List.of("distill.lr-schedule=cosine", "distill.validation-fraction=0.1",
                "distill.early-stopping-patience=2"));
        assertEquals(dev.pare.common.distill.LrSchedule.COSINE, c.distill().lrSchedule());
        assertEquals(0.1, c.distill().validationFraction());
        assertEquals(2, c.distill().patience());
        assertTrue(c.distill().keepBest());
        assertMessageContains(failing("distill.early-stopping-patience=2"), "distill.early-stopping-patience",
                "distill.validation-fraction");
        assertMessageContains(failing("distill.lr-schedule=linear"), "distill.lr-schedule", "constant, cosine, step");
        assertMessageContains(failing("distill.validation-fraction=1"), "distill.validation-fraction");
        assertMessageContains(failing("distill.step.gamma=1.5"), "distill.step.gamma");
        assertMessageContains(failing("selection.score=difficulty"), "selection.score", "el2n, loss, entropy, margin, grand");
        assertMessageContains(failing("selection.ccs.drop-hardest=1"), "selection.ccs.drop-hardest");
    }

    @Test
    void inputShapeIsThreePositiveNumbers() {
        assertEquals(new dev.pare.common.train.InputShape(3, 32, 32),
                ConfigLoader.load(null, List.of("train-teacher.input-shape=[3, 32, 32]")).trainTeacher().inputShape());
        assertMessageContains(failing("train-teacher.input-shape=[28, 28]"), "train-teacher.input-shape", "three");
        assertMessageContains(failing("train-teacher.input-shape=[1, 0, 28]"), "train-teacher.input-shape");
        assertMessageContains(failing("train-teacher.input-shape=big"), "train-teacher.input-shape");
    }

    @Test
    void overrideWithoutEqualsSignThrows() {
        assertMessageContains(failing("prune.sparsity"), "key=value");
        assertMessageContains(failing("=0.5"), "key=value");
    }

    @Test
    void clashingColumnNamesThrow() {
        assertMessageContains(failing("data.label-column=id"), "three different columns");
    }

    @Test
    void configFileIsReadAndSetOverridesIt(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("run.conf");
        Files.writeString(file, String.join("\n",
                "# a user's run",
                "prune {",
                "  sparsity = 0.25",
                "  criterion = magnitude",
                "}",
                "selection.fraction = 0.1",
                "distill { temperature = 2.5, alpha = ${prune.sparsity} }",
                "spark.conf { \"spark.sql.shuffle.partitions\" = 8 }",
                ""), StandardCharsets.UTF_8);
        PareConfig c = ConfigLoader.load(file.toFile(), List.of());
        assertEquals(0.25, c.prune().sparsity());
        assertEquals(Criteria.MAGNITUDE, c.prune().criterion());
        assertEquals(0.1, c.selection().fraction());
        assertEquals(2.5, c.distill().temperature());
        assertEquals(0.25, c.distill().alpha(), "substitutions resolve");
        assertEquals(Map.of("spark.sql.shuffle.partitions", "8"), c.spark().conf());
        // untouched keys keep the reference defaults
        assertEquals(2048, c.calibration().samples());

        PareConfig overridden = ConfigLoader.load(file.toFile(), List.of("prune.sparsity=0.7"));
        assertEquals(0.7, overridden.prune().sparsity());
        assertEquals(Criteria.MAGNITUDE, overridden.prune().criterion());
    }

    @Test
    void unknownKeyInAFileNamesTheFileAndLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("typo.conf");
        Files.writeString(file, "seed = 1\nprune.sparsty = 0.5\n", StandardCharsets.UTF_8);
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(file.toFile(), List.of()));
        assertMessageContains(e, "prune.sparsty", file.toString() + ":2", "prune.sparsity");
    }

    @Test
    void invalidHoconFileThrowsNamingThePath(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("broken.conf");
        Files.writeString(file, "prune { sparsity = \n", StandardCharsets.UTF_8);
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(file.toFile(), List.of()));
        assertMessageContains(e, file.toString(), "not valid HOCON");
    }

    @Test
    void missingConfigFileThrowsNamingThePath(@TempDir Path dir) {
        File missing = dir.resolve("nope.conf").toFile();
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(missing, List.of()));
        assertMessageContains(e, missing.getPath(), "does not exist");
        // a directory is not a config file either
        ConfigError d = assertThrows(ConfigError.class, () -> ConfigLoader.load(dir.toFile(), List.of()));
        assertMessageContains(d, dir.toString());
    }

    @Test
    void freeFormSparkConfAcceptsAnyKey() {
        PareConfig c = ConfigLoader.load(null, List.of("spark.conf.\"spark.executor.memory\"=2g"));
        assertEquals(Map.of("spark.executor.memory", "2g"), c.spark().conf());
    }

    @Test
    void setValueWithCommentCharactersIsKeptWhole() {
        assertEquals("/data/run#1/train.parquet",
                ConfigLoader.load(null, List.of("data.train=/data/run#1/train.parquet")).data().train());
        assertEquals("/data//train.parquet",
                ConfigLoader.load(null, List.of("data.train=/data//train.parquet")).data().train());
    }

    @Test
    void fractionalWholeNumbersAreRejected() {
        assertMessageContains(failing("calibration.samples=2.5"), "calibration.samples", "whole number");
        assertMessageContains(failing("distill.epochs=0.9"), "distill.epochs", "whole number");
    }

    @Test
    void sectionReplacedByAValueIsAConfigError() {
        assertMessageContains(failing("prune=5"), "prune");
    }

    @Test
    void aWrongValueNamesTheFileAndLineItCameFrom(@TempDir Path tmp) throws IOException {
        File file = Files.writeString(tmp.resolve("wrong.conf"), "seed = 1\ndistill {\n  epochs = \"three\"\n}\n",
                StandardCharsets.UTF_8).toFile();
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(file, List.of()));
        assertEquals("config key 'distill.epochs' = \"three\": must be a whole number (in " + file.getPath() + ":3)",
                e.getMessage());
        assertEquals("distill.epochs", e.path());
    }

    @Test
    void aWrongValueFromSetSaysSoAndSetWinsOverTheFile(@TempDir Path tmp) throws IOException {
        File file = Files.writeString(tmp.resolve("ok.conf"), "distill.epochs = 3\n", StandardCharsets.UTF_8).toFile();
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(file, List.of("distill.epochs=2.5")));
        assertEquals("config key 'distill.epochs' = 2.5: must be a whole number (in --set)", e.getMessage());
    }

    @Test
    void aRuleBrokenByADefaultNamesNoOrigin() {
        // n = 4 from --set against the default m = 4: the key named (n) came from --set.
        assertMessageContains(failing("prune.n-of-m.n=4"), "prune.n-of-m.n", "(in --set)");
        // A cross-section rule names no single key: no origin, and no failure to find one.
        ConfigError e = failing("data.id-column=label");
        assertFalse(e.getMessage().contains("(in "), e.getMessage());
    }

    @Test
    void distributedDistillationKeysAndTheirCrossRules() {
        PareConfig.Distributed off = ConfigLoader.load(null, List.of()).distill().distributed();
        assertEquals(new PareConfig.Distributed(false, 0, 5), off);
        PareConfig on = ConfigLoader.load(null, List.of("distill.distributed.enabled=true",
                "distill.distributed.workers=3", "distill.distributed.averaging-frequency=2", "distill.engine=dl4j"));
        assertEquals(new PareConfig.Distributed(true, 3, 2), on.distill().distributed());
        assertTrue(on.renderSection("distill").contains("averaging-frequency"), on.renderSection("distill"));

        ConfigError gradual = failing("distill.distributed.enabled=true", "distill.gradual.enabled=true");
        assertEquals("distill.distributed.enabled", gradual.path());
        assertMessageContains(gradual, "distill.gradual.enabled");
        ConfigError fused = failing("distill.distributed.enabled=true", "distill.engine=fused");
        assertEquals("distill.engine", fused.path());
        assertMessageContains(fused, "fused", "driver-only", "auto or dl4j");
        // fused alone stays a driver option
        assertEquals(dev.pare.common.distill.DistillEngine.FUSED,
                ConfigLoader.load(null, List.of("distill.engine=fused")).distill().engine());
    }

    @Test
    void calibrationPrecisionIsFloatByDefaultAndNamedWhenWrong() {
        assertEquals(dev.pare.common.calibration.Precision.FLOAT,
                ConfigLoader.load(null, List.of()).calibration().precision());
        assertEquals(dev.pare.common.calibration.Precision.DOUBLE,
                ConfigLoader.load(null, List.of("calibration.precision=double")).calibration().precision());
        ConfigError e = failing("calibration.precision=half");
        assertEquals("calibration.precision", e.path());
        assertMessageContains(e, "half", "float", "double");
    }
}
