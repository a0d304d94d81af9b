package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Learning-rate schedules, the validation split, early stopping and best-epoch selection. */
class DistillScheduleTest {
    private static final int IN = 6;
    private static final int CLASSES = 3;
    private static PrunedModel pruned;
    private static ExampleArrays all;
    private static float[] logits;
    private static ExampleArrays test;

    @BeforeAll
    static void setUp() {
        MultiLayerNetwork teacher = TinyNets.dense(5, IN, 8, CLASSES);
        pruned = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.5, true);
        all = TinyNets.examples(40, 80, IN, CLASSES, 500);
        test = TinyNets.examples(50, 16, IN, CLASSES, 500);
        logits = ForwardPass.logitsRowMajor(teacher, all.featureRange(0, all.size()));
    }

    @Test
    void scheduleRatesFollowTheirFormulas() {
        double[] cosine = new double[4];
        for (int e = 0; e < 4; e++) {
            cosine[e] = LrSchedule.COSINE.rate(1.0, e, 4, 1, 1);
        }
        // ½(1 + cos(π e / 4)): 1, (2 + √2)/4, 1/2, (2 − √2)/4
        assertArrayEquals(new double[] {1, (2 + Math.sqrt(2)) / 4, 0.5, (2 - Math.sqrt(2)) / 4}, cosine, 1e-15);
        assertEquals(1.0, LrSchedule.STEP.rate(1.0, 1, 9, 2, 0.5));
        assertEquals(0.5, LrSchedule.STEP.rate(1.0, 2, 9, 2, 0.5));
        assertEquals(0.25, LrSchedule.STEP.rate(1.0, 5, 9, 2, 0.5));
        assertEquals(0.01, LrSchedule.CONSTANT.rate(0.01, 7, 9, 2, 0.5));
        assertEquals(0.5, LrSchedule.COSINE.schedule(1.0, 4, 1, 1).valueAt(0, 2), 1e-15);
    }

    @Test
    void aZeroRateFromTheSecondEpochFreezesTheStudent() throws Exception {
        // step schedule with γ = 0 every epoch: epoch 1 trains at lr, epoch 2 at 0.
        DistillSettings s = new DistillSettings(2, 16, 0.01, 4.0, 0.5, 3, LrSchedule.STEP, 1, 0.0, 0, false);
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        Distiller.Result r = new Distiller(s).run(pruned.network(), pruned.masks(), all, logits, test, store, false,
                h -> { });
        MultiLayerNetwork afterOne = Networks.read(store.saved().get(0).model(), "epoch 1", false);
        // Epoch 1 moves the weights; epoch 2 (rate 0) leaves them, up to the 1-ulp noise DL4J's Adam step
        // adds even at rate 0 (measured: ~6e-8 on weights of magnitude ~0.5).
        assertTrue(maxAbsDiff(pruned.network(), afterOne) > 1e-3, "epoch 1 must train");
        assertTrue(maxAbsDiff(afterOne, r.student()) < 1e-6, "epoch 2 must not train: " + maxAbsDiff(afterOne, r.student()));
        assertEquals(0.01, r.epochs().get(0).learningRate());
        assertEquals(0.0, r.epochs().get(1).learningRate());
    }

    private static double maxAbsDiff(MultiLayerNetwork a, MultiLayerNetwork b) {
        float[] x = a.params().toFloatVector();
        float[] y = b.params().toFloatVector();
        double d = 0;
        for (int i = 0; i < x.length; i++) {
            d = Math.max(d, Math.abs(x[i] - y[i]));
        }
        return d;
    }

    @Test
    void validationSplitIsSeededDisjointAndAligned() {
        ValidationSplit a = ValidationSplit.of(all, logits, CLASSES, 0.25, 7);
        ValidationSplit b = ValidationSplit.of(all, logits, CLASSES, 0.25, 7);
        assertEquals(20, a.validation().size());
        assertEquals(60, a.train().size());
        assertArrayEquals(a.validation().ids(), b.validation().ids());
        assertFalse(Arrays.equals(a.validation().ids(), ValidationSplit.of(all, logits, CLASSES, 0.25, 8).validation().ids()));
        Set<Long> ids = new HashSet<>();
        for (long id : a.train().ids()) {
            ids.add(id);
        }
        for (long id : a.validation().ids()) {
            assertTrue(ids.add(id), "id in both splits: " + id);
        }
        assertEquals(80, ids.size());
        // logits stay with their rows
        for (int r = 0; r < a.train().size(); r++) {
            int row = (int) (a.train().ids()[r] - 500);
            assertArrayEquals(Arrays.copyOfRange(logits, row * CLASSES, row * CLASSES + CLASSES),
                    Arrays.copyOfRange(a.trainLogits(), r * CLASSES, r * CLASSES + CLASSES));
            assertEquals(all.labels()[row], a.train().labels()[r]);
        }
        ValidationSplit none = ValidationSplit.of(all, logits, CLASSES, 0.0, 7);
        assertEquals(0, none.validation().size());
        // nothing held out: the subset trains as it is, not a copy of it
        assertSame(all, none.train());
        assertSame(logits, none.trainLogits());
        assertEquals(0, ValidationSplit.of(all, logits, CLASSES, 0.01, 7).validation().size());
        assertThrows(IllegalArgumentException.class, () -> ValidationSplit.of(all, logits, CLASSES, 1.0, 7));
    }

    @Test
    void earlyStoppingAndBestEpochFollowTheValidationHistory() throws Exception {
        ValidationSplit split = ValidationSplit.of(all, logits, CLASSES, 0.25, 7);
        int epochs = 8;
        int patience = 2;
        DistillSettings s = new DistillSettings(epochs, 16, 0.02, 4.0, 0.5, 3, LrSchedule.CONSTANT, 1, 1, patience, true);
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        Distiller.Result r = new Distiller(s).run(pruned.network(), pruned.masks(), split.train(), split.trainLogits(),
                split.validation(), test, store, false, h -> { });
        List<EpochMetrics> h = r.epochs();
        // Replay the rule on the recorded history: stop once `patience` epochs pass without a strictly
        // better validation accuracy; the best is the earliest epoch with the highest accuracy.
        int best = 1;
        int stopAt = epochs;
        for (EpochMetrics m : h) {
            if (m.validationAccuracy() > h.get(best - 1).validationAccuracy()) {
                best = m.epoch();
            }
            if (m.epoch() - best >= patience) {
                stopAt = m.epoch();
                break;
            }
        }
        assertEquals(stopAt, h.size(), "epochs run");
        assertEquals(stopAt < epochs, r.stoppedEarly());
        assertEquals(best, r.chosenEpoch());
        MultiLayerNetwork bestNet = Networks.read(store.at(best).orElseThrow().model(), "best", false);
        assertArrayEquals(bestNet.params().toFloatVector(), r.student().params().toFloatVector());
        for (EpochMetrics m : h) {
            assertTrue(m.validationLoss() != null && m.validationLoss() > 0, m.toString());
        }
        // Without a validation split there is no validation metric and no early stop.
        Distiller.Result plain = new Distiller(s).run(pruned.network(), pruned.masks(), split.train(),
                split.trainLogits(), null, test, new MemoryCheckpointStore(), false, x -> { });
        assertEquals(epochs, plain.epochs().size());
        assertNull(plain.epochs().get(0).validationAccuracy());
        assertEquals(epochs, plain.chosenEpoch());
    }
}
