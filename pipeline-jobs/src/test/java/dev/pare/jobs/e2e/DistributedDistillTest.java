package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.RunOutputs;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pare run} on data-samples with {@code distill.distributed.enabled = true} (2 workers on
 * local[2]), a 10% subset with a validation split and one KD epoch: the distill stage finishes, says
 * in its provenance that it trained data-parallel, and its student has every pruned weight at zero.
 */
@Tag("e2e")
class DistributedDistillTest extends SharedLocalSpark {

    @Test
    void runWithDistributedDistillationFinishesWithAZeroMaskedStudent(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("distributed");
        assertEquals(0, PareCli.commandLine().execute(LocalSpark.demoArgs("run", runDir,
                "--set", "selection.fraction=0.1", "--set", "calibration.samples=512", "--set", "distill.epochs=1",
                "--set", "distill.validation-fraction=0.1", "--set", "distill.distributed.enabled=true",
                "--set", "distill.distributed.workers=2", "--set", "distill.distributed.averaging-frequency=3")));

        assertTrue(Files.exists(runDir.resolve("distill/_SUCCESS")));
        assertTrue(Files.exists(runDir.resolve("report/_SUCCESS")));
        JsonNode details = new ObjectMapper().readTree(runDir.resolve("distill/provenance.json").toFile())
                .path("details");
        assertTrue(details.path("distributed").asBoolean(), details.toString());
        assertEquals(2, details.path("workers").asInt(), details.toString());
        assertEquals(3, details.path("averagingFrequency").asInt(), details.toString());
        assertEquals("dl4j", details.path("engine").asText(), "the workers fit with DL4J (auto never means fused here)");
        assertEquals(2000, details.path("subsetExamples").asInt(), "floor(0.1 * 20000)");
        assertEquals(200, details.path("validationExamples").asInt(), "floor(0.1 * 2000)");
        assertEquals(1, details.path("epochs").size());
        JsonNode epoch = details.path("epochs").get(0);
        assertTrue(epoch.path("validationAccuracy").isNumber(), epoch.toString());
        assertEquals(1800, epoch.path("examplesPerSecond").asDouble() * epoch.path("seconds").asDouble(), 1e-6,
                "training examples = subset less validation");
        assertEquals(1, Files.readAllLines(runDir.resolve("distill/metrics.jsonl")).size());

        MultiLayerNetwork student = RunOutputs.student(runDir);
        MaskSet masks = RunOutputs.masks(runDir);
        long prunedSeen = RunOutputs.assertPrunedWeightsZero(student, masks);
        assertEquals(masks.size() - masks.keptCount(), prunedSeen);
        JsonNode report = new ObjectMapper().readTree(runDir.resolve("report/report.json").toFile());
        double oneShot = report.at("/pruned/accuracy").asDouble();
        double studentAccuracy = report.at("/student/accuracy").asDouble();
        assertTrue(studentAccuracy >= oneShot, "student " + studentAccuracy + " < one-shot " + oneShot);
    }
}
