package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.importance.Criteria;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.sparsity.CubicSchedule;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.surgery.GradualMasks;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PruneSettings;
import dev.pare.common.surgery.PrunedModel;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The cubic schedule and gradual pruning inside distillation. */
class DistillGradualTest {
    private static final int IN = 8;
    private static final int CLASSES = 3;
    private static MultiLayerNetwork teacher;
    private static PrunedModel start;
    private static ExampleArrays train;
    private static ExampleArrays test;
    private static float[] logits;

    @BeforeAll
    static void setUp() {
        teacher = TinyNets.dense(9, IN, 12, CLASSES);
        start = OneShotPruner.prune(teacher, null, PruneSettings.unstructured(Criteria.MAGNITUDE, 0.0, false));
        train = TinyNets.examples(60, 64, IN, CLASSES, 0);
        test = train;
        logits = ForwardPass.logitsRowMajor(teacher, train.featureRange(0, train.size()));
    }

    @Test
    void cubicScheduleValues() {
        CubicSchedule s = new CubicSchedule(0.2, 0.8, 10, 4, 5);
        assertEquals(0.2, s.sparsityAt(0));
        assertEquals(0.2, s.sparsityAt(10));
        // t = 15: r = 1 − 5/20 = 0.75; 0.8 + (0.2 − 0.8)·0.421875 = 0.546875
        assertEquals(0.546875, s.sparsityAt(15), 1e-15);
        assertEquals(0.8 - 0.6 * 0.125, s.sparsityAt(20), 1e-15);
        assertEquals(0.8, s.sparsityAt(30));
        assertEquals(0.8, s.sparsityAt(1000));
        List<Long> steps = new ArrayList<>();
        for (long t = 0; t < 40; t++) {
            if (s.isPruningStep(t)) {
                steps.add(t);
            }
        }
        assertEquals(List.of(10L, 15L, 20L, 25L, 30L), steps);
        assertEquals(-1, s.lastPruningStepAtOrBefore(9));
        assertEquals(20, s.lastPruningStepAtOrBefore(24));
        assertEquals(30, s.lastPruningStepAtOrBefore(99));
        assertThrows(IllegalArgumentException.class, () -> new CubicSchedule(0.5, 0.4, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new CubicSchedule(0.1, 0.4, 0, 0, 1));
    }

    /** Magnitude gradual masks, recording the sparsities asked for. */
    private static MaskSchedule magnitude(CubicSchedule schedule, List<Double> asked) {
        GradualMasks masks = new GradualMasks(schedule, null, PruneSettings.unstructured(Criteria.MAGNITUDE, 0, false));
        return new MaskSchedule() {
            @Override
            public CubicSchedule schedule() {
                return schedule;
            }

            @Override
            public MaskSet masks(MultiLayerNetwork student, double sparsity) {
                asked.add(sparsity);
                return masks.masks(student, sparsity);
            }
        };
    }

    private static Distiller.Result run(int epochs, MemoryCheckpointStore store, boolean resume,
                                        List<Double> asked) throws Exception {
        // 64 examples, batch 16: 4 steps per epoch; prune at steps 0, 2, 4, 6 (the last one at 0.75).
        CubicSchedule schedule = new CubicSchedule(0.0, 0.75, 0, 3, 2);
        return new Distiller(new DistillSettings(epochs, 16, 0.01, 4.0, 0.5, 5)).run(start.network(), start.masks(),
                train, logits, null, test, store, resume, magnitude(schedule, asked), h -> { });
    }

    @Test
    void sparsityRisesOnScheduleAndPrunedWeightsStayZero() throws Exception {
        List<Double> asked = new ArrayList<>();
        Distiller.Result r = run(3, new MemoryCheckpointStore(), false, asked);
        CubicSchedule s = new CubicSchedule(0.0, 0.75, 0, 3, 2);
        assertEquals(List.of(s.sparsityAt(0), s.sparsityAt(2), s.sparsityAt(4), s.sparsityAt(6)), asked);
        // Final masks at 0.75 of the hidden layer (8·12 = 96 weights: 72 pruned); output layer not pruned.
        assertEquals(1, r.masks().layers().size());
        LayerMask m = r.masks().layers().get(0);
        assertEquals(72, m.size() - m.keptCount());
        assertEquals(72, TinyNets.assertPrunedWeightsZero(r.student(), r.masks()));
        // The final masks are the magnitude masks of the weights at step 6, so they keep the largest weights
        // then; weights trained after it only move the kept ones.
        assertTrue(r.masks().sparsity() > 0.7);
    }

    @Test
    void resumeUnderGradualPruningIsBitIdentical() throws Exception {
        Distiller.Result straight = run(3, new MemoryCheckpointStore(), false, new ArrayList<>());
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        run(1, store, false, new ArrayList<>());
        assertNotNull(store.saved().get(0).masks(), "checkpoints carry the masks in force");
        Distiller.Result resumed = run(3, store, true, new ArrayList<>());
        assertArrayEquals(straight.student().params().toFloatVector(), resumed.student().params().toFloatVector());
        assertEquals(straight.masks().layers().get(0).keep(), resumed.masks().layers().get(0).keep());
        assertFalse(java.util.Arrays.equals(start.network().params().toFloatVector(),
                resumed.student().params().toFloatVector()));
    }
}
