package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.common.model.Networks;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pare run --config conf/lenet5.conf} (structured pruning of the committed LeNet-5 CNN, half
 * of its filters and hidden neurons removed physically), shrunk to a small subset, one KD epoch.
 */
@Tag("e2e")
class CnnPipelineTest extends SharedLocalSpark {

    @Test
    void structuredPruningGivesASmallerFasterStudent(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("cnn");
        int rc = PareCli.commandLine().execute("run",
                "--config", LocalSpark.repoRoot().resolve("conf/lenet5.conf").toString(),
                "--run-dir", runDir.toString(),
                "--set", "data.train=" + LocalSpark.sample("train.parquet"),
                "--set", "data.test=" + LocalSpark.sample("test.parquet"),
                "--set", "teacher.model=" + LocalSpark.sample("teacher-lenet5.zip"),
                "--set", "calibration.samples=256",
                "--set", "selection.fraction=0.05",
                "--set", "distill.epochs=1",
                "--set", "evaluate.latency-runs=5");
        assertEquals(0, rc);

        MultiLayerNetwork teacher = Networks.read(Files.readAllBytes(Path.of(LocalSpark.sample("teacher-lenet5.zip"))),
                "teacher", false);
        MultiLayerNetwork student = Networks.read(Files.readAllBytes(runDir.resolve("distill/student/model.zip")),
                "student", false);
        // conv1 20 -> 10 filters, conv2 50 -> 25 (and 10 input channels), fc1 500 -> 250 (25·4·4 inputs), fc2 10 classes.
        assertEquals(10, ((ConvolutionLayer) student.getLayer(0).conf().getLayer()).getNOut());
        assertEquals(10, ((ConvolutionLayer) student.getLayer(2).conf().getLayer()).getNIn());
        assertEquals(25, ((ConvolutionLayer) student.getLayer(2).conf().getLayer()).getNOut());
        assertEquals(25 * 4 * 4, ((FeedForwardLayer) student.getLayer(4).conf().getLayer()).getNIn());
        assertEquals(250, ((FeedForwardLayer) student.getLayer(4).conf().getLayer()).getNOut());
        assertEquals(10, Networks.outputSize(student));
        long expected = (10 * 25 + 10) + (25 * 10 * 25 + 25) + (400 * 250 + 250) + (250 * 10 + 10);
        assertEquals(expected, student.numParams());

        JsonNode r = new ObjectMapper().readTree(runDir.resolve("report/report.json").toFile());
        assertEquals(teacher.numParams(), r.at("/params/teacher").asLong());
        assertEquals(expected, r.at("/params/studentTotal").asLong());
        assertEquals("structured", r.at("/sparsity/pattern").asText());
        assertTrue(r.at("/size/studentBytes").asLong() < r.at("/size/teacherBytes").asLong() / 2,
                "student " + r.at("/size/studentBytes") + " bytes, teacher " + r.at("/size/teacherBytes"));
        assertTrue(r.at("/latency/teacherMsPerBatch").asDouble() > 0);
        assertTrue(r.at("/latency/studentMsPerBatch").asDouble() > 0);
        assertEquals(256, r.at("/latency/batchSize").asInt());
        // Far above chance (0.1) after one KD epoch on 1000 examples.
        assertTrue(r.at("/student/accuracy").asDouble() > 0.6, "student accuracy " + r.at("/student/accuracy"));
    }
}
