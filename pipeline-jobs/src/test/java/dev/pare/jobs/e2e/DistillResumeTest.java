package dev.pare.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.jobs.cli.PareCli;
import dev.pare.jobs.support.LocalSpark;
import dev.pare.jobs.support.SharedLocalSpark;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A distill killed after its epoch-1 checkpoint and resumed with {@code pare run --resume} ends
 * with a student bit-identical to an uninterrupted run. The killed state is the one a crash leaves:
 * {@code _tmp/distill/} holding {@code _HASH} and the epoch-1 checkpoint, nothing committed.
 */
@Tag("e2e")
class DistillResumeTest extends SharedLocalSpark {

    private static String[] run(Path runDir, String... extra) {
        String[] small = {"--set", "selection.fraction=0.2", "--set", "calibration.samples=512"};
        String[] all = java.util.Arrays.copyOf(small, small.length + extra.length);
        System.arraycopy(extra, 0, all, small.length, extra.length);
        return LocalSpark.demoArgs("run", runDir, all);
    }

    /** Plain offline KD; and gradual pruning whose steps (every 10 of ~29 per epoch) span the kill after epoch 1, with a validation split. */
    static Stream<Arguments> configurations() {
        return Stream.of((Object) new String[0], (Object) new String[] {"--set", "distill.gradual.enabled=true",
            "--set", "distill.gradual.initial-sparsity=0.3", "--set", "prune.sparsity=0.8",
            "--set", "distill.gradual.interval=10", "--set", "distill.gradual.steps=4",
            "--set", "distill.validation-fraction=0.1"}).map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void resumedDistillEqualsUninterruptedDistill(String[] config, @TempDir Path tmp) throws Exception {
        Path full = tmp.resolve("uninterrupted");
        assertEquals(0, PareCli.commandLine().execute(run(full, config)));

        // The state of a run killed right after the epoch-1 checkpoint of distill.
        Path killed = tmp.resolve("killed");
        copyTree(full, killed);
        String hash = new ObjectMapper().readTree(killed.resolve("distill/_SUCCESS").toFile()).path("hash").asText();
        Path attempt = killed.resolve("_tmp/distill");
        Files.createDirectories(attempt.getParent());
        Files.move(killed.resolve("distill"), attempt);
        for (String gone : List.of("_SUCCESS", "provenance.json", "metrics.jsonl", "checkpoints/epoch-0002.zip",
                "checkpoints/epoch-0002.json", "checkpoints/epoch-0002.masks")) {
            Files.deleteIfExists(attempt.resolve(gone));
        }
        deleteTree(attempt.resolve("student"));
        Files.writeString(attempt.resolve("_HASH"), hash);
        deleteTree(killed.resolve("eval"));
        deleteTree(killed.resolve("report"));

        String[] resume = java.util.Arrays.copyOf(config, config.length + 1);
        resume[config.length] = "--resume";
        assertEquals(0, PareCli.commandLine().execute(run(killed, resume)));

        assertTrue(Files.notExists(killed.resolve("_tmp")));
        List<String> metrics = Files.readAllLines(killed.resolve("distill/metrics.jsonl"));
        assertEquals(Files.readAllLines(full.resolve("distill/metrics.jsonl")).size(), metrics.size());
        MultiLayerNetwork a = student(full);
        MultiLayerNetwork b = student(killed);
        assertArrayEquals(a.params().toFloatVector(), b.params().toFloatVector(), "resumed student differs");
        assertArrayEquals(Files.readAllBytes(full.resolve("distill/student/masks.bin")),
                Files.readAllBytes(killed.resolve("distill/student/masks.bin")), "resumed student masks differ");
        if (config.length > 0) {
            // Gradual pruning really changed the masks: the student is sparser than the one-shot model.
            MaskSet prunedMasks = MaskSet.read(Files.newInputStream(full.resolve("pruned/masks.bin")), "pruned");
            MaskSet studentMasks = MaskSet.read(Files.newInputStream(full.resolve("distill/student/masks.bin")), "student");
            assertEquals(0.3, prunedMasks.sparsity(), 0.01);
            assertEquals(0.8, studentMasks.sparsity(), 0.01);
        }
        assertEquals(new ObjectMapper().readTree(full.resolve("report/report.json").toFile()).at("/student/accuracy"),
                new ObjectMapper().readTree(killed.resolve("report/report.json").toFile()).at("/student/accuracy"));
    }

    private static MultiLayerNetwork student(Path runDir) throws IOException {
        try (InputStream in = Files.newInputStream(runDir.resolve("distill/student/model.zip"))) {
            return Networks.read(in, runDir + " student", false);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.exists(p)) {
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(q);
                }
            }
        }
    }
}
