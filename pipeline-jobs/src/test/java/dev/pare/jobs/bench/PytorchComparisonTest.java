package dev.pare.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pare.jobs.io.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PytorchComparisonTest {
    /** A FashionMnistBenchmark document cut down to the fields the comparison reads. */
    private static final String PARE = """
            {"machine": {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_CORETYPE": null,
                         "openblasKernels": "SkylakeX", "master": "local[2]"},
             "settings": {"batchSize": 128},
             "teacher": {"accuracy": 0.87},
             "compute": {"teacherTrainEpoch": {"examples": 60000, "batchSize": 128, "examplesPerSecond": 20000},
                         "calibrationForwardBackward": {"examples": 2048, "batchSize": 128, "examplesPerSecond": 4000},
                         "calibrationForward": {"examples": 2048, "batchSize": 256, "examplesPerSecond": 30000},
                         "score": {"examples": 60000, "batchSize": 1000, "examplesPerSecond": 150000},
                         "kdEpoch": {"examples": 60000, "batchSize": 128, "examplesPerSecond": 22000},
                         "forwardBs1000": {"examples": 10000, "batchSize": 1000, "examplesPerSecond": 250000},
                         "forwardBs128": {"examples": 10000, "batchSize": 128, "examplesPerSecond": 100000}},
             "stages": {"calibrateForwardBackward": {"examplesPerSecond": 1000},
                        "calibrateForward": {"examplesPerSecond": 2000},
                        "scoreData": {"examplesPerSecond": 40000},
                        "distill": {"examplesPerSecond": 11000},
                        "evaluateForward": {"examplesPerSecond": 50000}},
             "runs": [{"name": "wanda@0.5", "oneShotAccuracy": 0.86, "studentAccuracy": 0.88},
                      {"name": "wanda@0.9", "oneShotAccuracy": 0.61}]}
            """;

    /** The PyTorch peer's document, cut down likewise. */
    private static final String TORCH = """
            {"env": {"OMP_NUM_THREADS": "1", "torch_num_threads": 1, "torch": "1.13.1"},
             "hyperparameters": {"alpha": 0.5},
             "teacher": {"test_acc": 0.88},
             "teacher_epoch_timing": {"examples_per_second_median": 100000},
             "kd_epoch_timing": {"examples_per_second_median": 55000},
             "throughput_examples_per_second": {"calibration_stats": 40000, "data_scoring_pass": 300000,
                                                "teacher_forward_bs1000": 500000, "teacher_forward_bs128": 200000},
             "oneshot": {"dense": {"test_acc": 0.88}, "wanda@0.5": {"test_acc": 0.85}, "wanda@0.9": {"test_acc": 0.6},
                         "magnitude@0.5": {"test_acc": 0.84}},
             "kd": {"wanda@0.5": {"test_acc": 0.885}}}
            """;

    private static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    private static PytorchComparison.Throughput row(List<PytorchComparison.Throughput> rows, String stage) {
        return rows.stream().filter(r -> r.stage().equals(stage)).findFirst().orElseThrow();
    }

    @Test
    void ratiosArePareOverPytorchPerStageAndPerComputeLoop() throws Exception {
        List<PytorchComparison.Throughput> rows = PytorchComparison.throughput(json(PARE), json(TORCH));
        PytorchComparison.Throughput teacher = row(rows, "teacher training epoch");
        assertNull(teacher.pareStage());
        assertNull(teacher.stageRatio());
        assertEquals(0.2, teacher.computeRatio(), 1e-12);
        assertEquals("60000 ex, batch 128", teacher.workload());
        PytorchComparison.Throughput cal = row(rows, "calibration fwd+bwd");
        assertEquals(1000.0 / 40000, cal.stageRatio(), 1e-12);
        assertEquals(0.1, cal.computeRatio(), 1e-12);
        assertNull(row(rows, "calibration forward only").computeRatio(), "the peer has no forward-only calibration");
        assertEquals(0.5, row(rows, "score-data (per-example scores)").computeRatio(), 1e-12);
        assertEquals(0.4, row(rows, "KD epoch").computeRatio(), 1e-12);
        assertEquals(0.2, row(rows, "KD epoch").stageRatio(), 1e-12);
        List<PytorchComparison.Throughput> forward = rows.stream().filter(r -> r.stage().startsWith("forward")).toList();
        assertEquals(0.5, forward.get(0).computeRatio(), 1e-12);
        assertEquals(0.1, forward.get(0).stageRatio(), 1e-12);
        assertEquals("10000 ex, batch 128", forward.get(1).workload());
        assertEquals(0.5, forward.get(1).computeRatio(), 1e-12);
    }

    @Test
    void ratioNeedsTwoPositiveRates() {
        assertNull(PytorchComparison.ratio(null, 1.0));
        assertNull(PytorchComparison.ratio(1.0, 0.0));
        assertNull(PytorchComparison.ratio(Double.NaN, 1.0));
        assertEquals(3.0, PytorchComparison.ratio(3.0, 1.0));
    }

    @Test
    void accuraciesOfEveryConfigurationEitherSideRan() throws Exception {
        List<PytorchComparison.Accuracy> rows = PytorchComparison.accuracies(json(PARE), json(TORCH));
        List<String> models = rows.stream().map(PytorchComparison.Accuracy::model).toList();
        assertEquals(List.of("teacher", "one-shot wanda@0.5", "one-shot wanda@0.9", "one-shot magnitude@0.5",
                "after KD wanda@0.5"), models);
        assertEquals(-0.01, rows.get(0).difference(), 1e-12);
        assertEquals(0.84, rows.get(3).pytorch());
        assertNull(rows.get(3).pare(), "Pare did not run magnitude@0.5");
        assertNull(rows.get(3).difference());
        assertEquals(0.88 - 0.885, rows.get(4).difference(), 1e-12);
    }

    @Test
    void documentRecordsTheEnvironmentAndTheTableShowsIt() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        env.put("OMP_NUM_THREADS", "1");
        env.put("OPENBLAS_CORETYPE", "");
        ObjectNode doc = PytorchComparison.document("mlp", json(PARE), json(TORCH), env, List.of("a note"));
        assertTrue(doc.at("/environment/pareMatches").asBoolean());
        assertEquals("", doc.at("/environment/givenToBoth/OPENBLAS_CORETYPE").asText());
        assertEquals(1, doc.at("/environment/pytorchSaw/torchNumThreads").asInt());
        assertEquals(0.1, doc.at("/throughput/1/computeRatio").asDouble(), 1e-12);
        assertTrue(doc.at("/throughput/0/stageRatio").isNull());
        assertEquals(0.5, doc.at("/hyperparameters/pytorch/alpha").asDouble());
        String table = PytorchComparison.table(doc);
        assertTrue(table.contains("OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 OPENBLAS_CORETYPE=(unset)"), table);
        assertTrue(table.contains("saw the same: yes, OpenBLAS kernels SkylakeX;"), table);
        assertEquals("SkylakeX", doc.at("/environment/pareSaw/openblasKernels").asText());
        assertTrue(table.lines().anyMatch(l -> l.startsWith("calibration fwd+bwd") && l.contains("1.0k")
                && l.contains("4.0k") && l.contains("40.0k") && l.contains("0.025") && l.contains("0.10")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("teacher ") && l.contains("0.8700") && l.contains("0.8800")
                && l.contains("-0.0100")), table);
        assertTrue(table.contains("- a note"), table);

        env.put("OMP_NUM_THREADS", "2");
        assertFalse(PytorchComparison.document("mlp", json(PARE), json(TORCH), env, List.of())
                .at("/environment/pareMatches").asBoolean());
    }

    @Test
    void ratesAreShortened() {
        assertEquals("-", PytorchComparison.rate(null));
        assertEquals("950", PytorchComparison.rate(Json.MAPPER.getNodeFactory().numberNode(950.4)));
        assertEquals("21.3k", PytorchComparison.rate(Json.MAPPER.getNodeFactory().numberNode(21_290.0)));
        assertEquals("1.25M", PytorchComparison.rate(Json.MAPPER.getNodeFactory().numberNode(1_250_000.0)));
    }
}
