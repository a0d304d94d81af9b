package dev.pare.jobs.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** What a finished {@code pare run} left in its run directory, read for assertions. */
public final class RunOutputs {
    private RunOutputs() {}

    /** The distilled student ({@code distill/student/model.zip}). */
    public static MultiLayerNetwork student(Path runDir) throws IOException {
        try (InputStream in = Files.newInputStream(runDir.resolve("distill/student/model.zip"))) {
            return Networks.read(in, "student", false);
        }
    }

    /** The prune stage's masks ({@code pruned/masks.bin}). */
    public static MaskSet masks(Path runDir) throws IOException {
        try (InputStream in = Files.newInputStream(runDir.resolve("pruned/masks.bin"))) {
            return MaskSet.read(in, "masks");
        }
    }

    /**
     * Asserts that every weight {@code masks} prunes is exactly zero in {@code net} ({@code ==}, so
     * -0.0, a negative weight times the 0 mask, counts as zero) and returns how many there are.
     */
    public static long assertPrunedWeightsZero(MultiLayerNetwork net, MaskSet masks) {
        long pruned = 0;
        for (LayerMask m : masks.layers()) {
            float[][] w = net.getLayer(m.index()).getParam("W").toFloatMatrix();
            for (int i = 0; i < m.nIn(); i++) {
                for (int j = 0; j < m.nOut(); j++) {
                    if (!m.kept(i, j)) {
                        assertTrue(w[i][j] == 0f, "pruned weight " + m.name() + "[" + i + "][" + j + "] = " + w[i][j]);
                        pruned++;
                    }
                }
            }
        }
        return pruned;
    }
}
