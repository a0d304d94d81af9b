package dev.pare.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.TinyNets;
import dev.pare.common.data.ExampleArrays;
import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

class DistillerTest {
    private static final int IN = 6;
    private static final int CLASSES = 3;
    private static MultiLayerNetwork teacher;
    private static PrunedModel pruned;
    private static ExampleArrays train;
    private static ExampleArrays test;
    private static float[] teacherLogits;

    @BeforeAll
    static void setUp() {
        teacher = TinyNets.dense(5, IN, 8, CLASSES);
        pruned = OneShotPruner.prune(teacher, null, new MagnitudeCriterion(), 0.5, true);
        train = TinyNets.examples(20, 64, IN, CLASSES, 1000);
        test = TinyNets.examples(30, 16, IN, CLASSES, 1000);
        teacherLogits = ForwardPass.logitsRowMajor(teacher, train.featureRange(0, train.size()));
        assertEquals(64 * CLASSES, teacherLogits.length);
    }

    private static DistillSettings settings(int epochs) {
        return new DistillSettings(epochs, 16, 0.01, 4.0, 0.5, 99);
    }

    private static Distiller.Result run(int epochs, MemoryCheckpointStore store, boolean resume) throws Exception {
        return new Distiller(settings(epochs)).run(pruned.network(), pruned.masks(), train, teacherLogits, test, store,
                resume, m -> { });
    }

    private static ILossFunction outputLoss(MultiLayerNetwork net) {
        return ((OutputLayer) net.getLayer(net.getnLayers() - 1).conf().getLayer()).getLossFn();
    }

    @Test
    void maskedWeightsStayZeroAfterFitSteps() throws Exception {
        float[] prunedParams = pruned.network().params().dup().toFloatVector();
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        List<EpochMetrics> seen = new ArrayList<>();
        Distiller.Result r = new Distiller(settings(2)).run(pruned.network(), pruned.masks(), train, teacherLogits,
                test, store, false, h -> seen.add(h.get(h.size() - 1)));
        MultiLayerNetwork student = r.student();

        assertEquals(2, pruned.masks().layers().size(), "hidden and output layers are both masked");
        boolean unmaskedChanged = false;
        int maskedSeen = 0;
        for (LayerMask m : pruned.masks().layers()) {
            float[][] before = TinyNets.weights(pruned.network(), m.index());
            float[][] after = TinyNets.weights(student, m.index());
            for (int i = 0; i < m.nIn(); i++) {
                for (int j = 0; j < m.nOut(); j++) {
                    if (m.kept(i, j)) {
                        unmaskedChanged |= before[i][j] != after[i][j];
                    } else {
                        maskedSeen++;
                        assertEquals(0.0f, after[i][j], 0.0f, "masked w[" + i + "][" + j + "] of layer " + m.name());
                    }
                }
            }
        }
        assertEquals(Math.round(0.5 * 48) + Math.round(0.5 * 24), maskedSeen);
        assertTrue(unmaskedChanged, "training must move at least one kept weight");

        // the input student is not modified
        assertArrayEquals(prunedParams, pruned.network().params().toFloatVector());

        // the returned student has its original loss again, not the KD loss
        assertFalse(outputLoss(student) instanceof KnowledgeDistillationLoss, String.valueOf(outputLoss(student)));
        assertTrue(outputLoss(student) instanceof LossMCXENT, String.valueOf(outputLoss(student)));
        assertEquals(outputLoss(pruned.network()), outputLoss(student));

        // one checkpoint and one metrics line per epoch, reported in order
        assertEquals(List.of(1, 2), store.saved().stream().map(Checkpoint::epoch).toList());
        assertEquals(2, r.epochs().size());
        assertEquals(r.epochs(), seen);
        assertEquals(r.epochs(), store.saved().get(1).history());
        for (EpochMetrics m : r.epochs()) {
            assertTrue(Double.isFinite(m.trainLoss()) && m.trainLoss() > 0, m.toString());
            assertTrue(m.testAccuracy() >= 0 && m.testAccuracy() <= 1, m.toString());
        }
    }

    @Test
    void resumedRunIsBitIdenticalToAnUninterruptedOne() throws Exception {
        Distiller.Result straight = run(2, new MemoryCheckpointStore(), false);

        MemoryCheckpointStore store = new MemoryCheckpointStore();
        Distiller.Result first = run(1, store, false);
        assertEquals(1, first.epochs().size());
        assertEquals(1, store.saved().size());
        Distiller.Result resumed = run(2, store, true);

        float[] expected = straight.student().params().toFloatVector();
        float[] actual = resumed.student().params().toFloatVector();
        // the two-epoch result differs from the one-epoch one, so the comparison below is not vacuous
        assertFalse(java.util.Arrays.equals(expected, first.student().params().toFloatVector()));
        assertArrayEquals(expected, actual);

        assertEquals(2, resumed.epochs().size());
        assertEquals(List.of(1, 2), store.saved().stream().map(Checkpoint::epoch).toList());
        for (int e = 0; e < 2; e++) {
            assertEquals(straight.epochs().get(e).epoch(), resumed.epochs().get(e).epoch());
            assertEquals(straight.epochs().get(e).trainLoss(), resumed.epochs().get(e).trainLoss(), 0.0);
            assertEquals(straight.epochs().get(e).testAccuracy(), resumed.epochs().get(e).testAccuracy(), 0.0);
            assertEquals(straight.epochs().get(e).testLoss(), resumed.epochs().get(e).testLoss(), 0.0);
        }
        assertFalse(outputLoss(resumed.student()) instanceof KnowledgeDistillationLoss);
    }

    @Test
    void resumeWithNoCheckpointStartsFromTheBeginning() throws Exception {
        Distiller.Result fresh = run(1, new MemoryCheckpointStore(), false);
        Distiller.Result resumedEmpty = run(1, new MemoryCheckpointStore(), true);
        assertArrayEquals(fresh.student().params().toFloatVector(), resumedEmpty.student().params().toFloatVector());
    }

    @Test
    void zeroEpochsReturnsThePrunedWeights() throws Exception {
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        Distiller.Result r = run(0, store, false);
        assertArrayEquals(pruned.network().params().toFloatVector(), r.student().params().toFloatVector());
        assertTrue(r.epochs().isEmpty());
        assertTrue(store.saved().isEmpty());
    }

    @Test
    void teacherLogitsOfTheWrongLengthThrow() {
        float[] shortLogits = java.util.Arrays.copyOf(teacherLogits, teacherLogits.length - 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Distiller(settings(1))
                .run(pruned.network(), pruned.masks(), train, shortLogits, test, new MemoryCheckpointStore(), false, m -> { }));
        assertTrue(e.getMessage().contains(String.valueOf(shortLogits.length)), e.getMessage());
    }

    @Test
    void evaluateAgreesWithForwardPassAccuracy() {
        var m = Distiller.evaluate(teacher, test, CLASSES, 5);
        float[][] logits = ForwardPass.logits(teacher, test.featureRange(0, test.size())).toFloatMatrix();
        int correct = 0;
        for (int r = 0; r < test.size(); r++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) {
                if (logits[r][c] > logits[r][best]) {
                    best = c;
                }
            }
            correct += best == test.labels()[r] ? 1 : 0;
        }
        assertEquals(test.size(), m.count());
        assertEquals((double) correct / test.size(), m.accuracy(), 0.0);
    }
    @Test
    void evaluateGivesTheSameMetricsOnAnyNumberOfThreadsAndTheLossFromTheLogits() {
        MultiLayerNetwork cnn = dev.pare.common.TinyNets.cnn(11, org.nd4j.linalg.api.buffer.DataType.FLOAT);
        ExampleArrays images = dev.pare.common.TinyNets.examples(12, 203, 72, CLASSES, 0);
        for (var c : List.of(java.util.Map.entry(teacher, test), java.util.Map.entry(cnn, images))) {
            MultiLayerNetwork net = c.getKey();
            ExampleArrays data = c.getValue();
            float[][] logits = ForwardPass.logits(net, data.featureRange(0, data.size())).toFloatMatrix();
            double loss = 0;
            int correct = 0;
            for (int r = 0; r < data.size(); r++) {
                int best = 0;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < CLASSES; k++) {
                    max = Math.max(max, logits[r][k]);
                    best = logits[r][k] > logits[r][best] ? k : best;
                }
                double sum = 0;
                for (int k = 0; k < CLASSES; k++) {
                    sum += Math.exp(logits[r][k] - max);
                }
                loss += max + Math.log(sum) - logits[r][data.labels()[r]];
                correct += best == data.labels()[r] ? 1 : 0;
            }
            var one = Distiller.evaluate(net, data, CLASSES, 7, 1);
            assertEquals(data.size(), one.count());
            assertEquals((double) correct / data.size(), one.accuracy(), 0.0);
            assertEquals(loss / data.size(), one.meanLoss(), 1e-6);
            for (int threads : new int[] {2, 3, 64}) {
                var m = Distiller.evaluate(net, data, CLASSES, 7, threads);
                assertEquals(one.count(), m.count());
                assertEquals(one.accuracy(), m.accuracy(), 0.0);
                assertEquals(Double.doubleToRawLongBits(one.meanLoss()), Double.doubleToRawLongBits(m.meanLoss()),
                        threads + " threads");
                assertArrayEquals(one.perClassAccuracy(), m.perClassAccuracy(), 0.0);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Distiller.evaluate(teacher, test, CLASSES, 7, 0));
    }
}
