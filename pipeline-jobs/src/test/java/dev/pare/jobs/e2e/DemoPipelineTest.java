package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.stages.CalibrateStage;
import dev.pare.jobs.stages.ScoreDataStage;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.RunOutputs;
import dev.pare.jobs.support.SharedLocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code pare run --config conf/demo.conf} on data-samples, in process on local[2], as README's
 * demo runs it. Tagged {@code e2e}: {@code mvn verify -DexcludedGroups=e2e} skips it.
 */
@Tag("e2e")
class DemoPipelineTest extends SharedLocalSpark {

    private static String[] args(Path runDir, String... extra) {
        return LocalSpark.demoArgs("run", runDir, extra);
    }

    @Test
    void demoRunProducesAReportWithTheContractFieldsAndAZeroMaskedStudent(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("demo");
        assertEquals(0, PareCli.commandLine().execute(args(runDir)));

        JsonNode r = new ObjectMapper().readTree(runDir.resolve("report/report.json").toFile());
        for (String field : List.of("teacher.accuracy", "pruned.accuracy", "student.accuracy", "student.epochs",
                "sparsity.target", "sparsity.achieved", "sparsity.perLayer", "data.keptFraction", "data.keptCount",
                "params.teacher", "params.studentNonZero")) {
            JsonNode n = r.at("/" + field.replace('.', '/'));
            assertTrue(!n.isMissingNode() && !n.isNull(), "report.json lacks " + field);
        }
        for (String stage : List.of("calibrate", "score-data", "select-data", "prune", "distill", "evaluate")) {
            assertTrue(r.at("/stages/" + stage + "/seconds").isNumber(), "stages." + stage + ".seconds");
        }
        // Where the executor stages' time went: the tasks' time in the model, within the stage's slot time.
        for (String folder : List.of(CalibrateStage.FOLDER, ScoreDataStage.FOLDER)) {
            JsonNode p = new ObjectMapper().readTree(runDir.resolve(folder + "/provenance.json").toFile());
            double model = p.at("/details/modelSeconds").asDouble(-1);
            int slots = p.at("/details/taskSlots").asInt();
            assertEquals(2, slots, folder + ": local[2]");
            assertTrue(model > 0 && model <= p.path("seconds").asDouble() * slots,
                    folder + ": modelSeconds " + model + " for " + p.path("seconds") + " s on " + slots + " slots");
        }
        assertEquals(2, r.at("/student/epochs").size());
        assertEquals(0.7, r.at("/sparsity/target").asDouble(), 1e-12);
        assertEquals(0.7, r.at("/sparsity/achieved").asDouble(), 0.005);
        assertEquals(10_000, r.at("/data/keptCount").asLong(), "floor(0.5 * 20000)");
        assertEquals(266_610, r.at("/params/teacher").asLong(), "784*300+300 + 300*100+100 + 100*10+10");
        double oneShot = r.at("/pruned/accuracy").asDouble();
        double student = r.at("/student/accuracy").asDouble();
        assertTrue(student >= oneShot, "student " + student + " < one-shot " + oneShot);
        assertTrue(r.at("/teacher/accuracy").asDouble() > 0.8, "the committed teacher is a real model");
        assertTrue(Files.readString(runDir.resolve("report/report.html")).contains("<table>"));

        // The saved student: every masked weight exactly zero; non-zeros as reported.
        MultiLayerNetwork net = RunOutputs.student(runDir);
        long pruned = RunOutputs.assertPrunedWeightsZero(net, RunOutputs.masks(runDir));
        INDArray params = net.params();
        long nonZero = params.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64).sumNumber().longValue();
        assertEquals(r.at("/params/studentNonZero").asLong(), nonZero);
        assertTrue(nonZero <= 266_610 - pruned);

        // A rerun with the same config is a no-op: every stage is skipped and nothing is rewritten.
        long before = Files.getLastModifiedTime(runDir.resolve("distill/_SUCCESS")).toMillis();
        assertEquals(0, PareCli.commandLine().execute(args(runDir)));
        assertEquals(before, Files.getLastModifiedTime(runDir.resolve("distill/_SUCCESS")).toMillis());
        assertTrue(Files.notExists(runDir.resolve("_tmp")), "no temporary folders left behind");

        // Any model file can be evaluated too: the teacher under another name agrees with itself exactly.
        String[] evaluate = LocalSpark.demoArgs("evaluate", runDir, "--model",
                "copy=" + LocalSpark.sample("teacher-lenet300100.zip"));
        assertEquals(PareCli.BAD_INPUT, PareCli.commandLine().execute(evaluate), "a changed evaluate needs --force");
        String[] forced = java.util.Arrays.copyOf(evaluate, evaluate.length + 1);
        forced[evaluate.length] = "--force";
        assertEquals(0, PareCli.commandLine().execute(forced));
        JsonNode copy = new ObjectMapper().readTree(runDir.resolve("eval/copy.json").toFile());
        assertEquals(r.at("/teacher/accuracy").asDouble(), copy.path("accuracy").asDouble(), 0.0);
        assertEquals(1.0, copy.path("teacherAgreement").asDouble(), 0.0);
        assertEquals(5000, copy.path("examples").asLong());
    }

    @Test
    void structuredStudentWithHiddenStateKdTrainsOnTheFusedEngine(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("hidden");
        assertEquals(0, PareCli.commandLine().execute(args(runDir, "--set", "prune.pattern=structured",
                "--set", "prune.criterion=magnitude", "--set", "prune.sparsity=0.5", "--set", "selection.fraction=0.1",
                "--set", "distill.epochs=1", "--set", "distill.hidden.weight=0.5")));

        // The teacher units each cut layer kept: half of 300 and of 100, sorted, within range.
        JsonNode kept = new ObjectMapper().readTree(runDir.resolve("pruned/kept-units.json").toFile());
        assertEquals(2, kept.size());
        assertEquals(150, kept.path("0").size());
        assertEquals(50, kept.path("1").size());
        for (int k = 1; k < 150; k++) {
            assertTrue(kept.path("0").get(k - 1).asInt() < kept.path("0").get(k).asInt());
        }
        JsonNode details = new ObjectMapper().readTree(runDir.resolve("distill/provenance.json").toFile())
                .path("details");
        assertEquals("fused", details.path("engine").asText());
        assertEquals(0.5, details.path("hiddenStateWeight").asDouble(), 0.0);
        assertEquals(2, details.path("hiddenStateLayers").size(), details.toString());
        JsonNode r = new ObjectMapper().readTree(runDir.resolve("report/report.json").toFile());
        double oneShot = r.at("/pruned/accuracy").asDouble();
        double student = r.at("/student/accuracy").asDouble();
        assertTrue(student > oneShot, "student " + student + " <= one-shot " + oneShot);
        assertTrue(student > 0.75, "student " + student);
    }
}
