package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.importance.MagnitudeCriterion;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.surgery.OneShotPruner;
import dev.pare.common.surgery.PrunedModel;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.util.CollectionAccumulator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The worker-side listener, without Spark: it is what keeps pruned weights at zero between steps. */
class MaskingListenerTest {

    private static PrunedModel pruned() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.FLOAT).updater(new Adam(0.05)).list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return OneShotPruner.prune(net, null, new MagnitudeCriterion(), 0.5, true);
    }

    private static DataSet batch() {
        SplittableRandom rnd = new SplittableRandom(2);
        float[] x = new float[16 * 6];
        float[] y = new float[16 * 3];
        for (int r = 0; r < 16; r++) {
            for (int j = 0; j < 6; j++) {
                x[r * 6 + j] = (float) rnd.nextDouble(-1, 1);
            }
            y[r * 3 + rnd.nextInt(3)] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {16, 6}, 'c'), Nd4j.create(y, new long[] {16, 3}, 'c'));
    }

    /** Pruned weights of {@code net} that are not zero. */
    private static int nonZeroPruned(MultiLayerNetwork net, MaskSet masks) {
        int n = 0;
        for (LayerMask m : masks.layers()) {
            float[][] w = net.getLayer(m.index()).getParam("W").toFloatMatrix();
            for (int i = 0; i < m.nIn(); i++) {
                for (int j = 0; j < m.nOut(); j++) {
                    n += !m.kept(i, j) && w[i][j] != 0f ? 1 : 0;
                }
            }
        }
        return n;
    }

    @Test
    void reZeroesPrunedWeightsAfterEveryStepAndRecordsEachLoss() throws Exception {
        PrunedModel p = pruned();
        MaskSet masks = p.masks();
        assertEquals(0, nonZeroPruned(p.network(), masks));

        // Without it, Adam moves pruned weights off zero in the first step: the check below is not vacuous.
        MultiLayerNetwork plain = p.network().clone();
        plain.fit(batch());
        assertTrue(nonZeroPruned(plain, masks) > 0);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        masks.write(bytes);
        CollectionAccumulator<MaskingListener.Loss> losses = new CollectionAccumulator<>();
        MultiLayerNetwork net = p.network().clone();
        net.setListeners(new MaskingListener(bytes.toByteArray(), losses));
        for (int step = 0; step < 3; step++) {
            net.fit(batch());
            assertEquals(0, nonZeroPruned(net, masks), "after step " + step);
        }
        List<MaskingListener.Loss> seen = losses.value();
        assertEquals(List.of(0L, 1L, 2L), seen.stream().map(MaskingListener.Loss::iteration).toList());
        assertTrue(seen.stream().allMatch(l -> Double.isFinite(l.value()) && l.value() > 0), seen.toString());
        assertEquals(seen.get(2).value(), net.score(), 0.0);
    }

    @Test
    void meanLossCountsEachMinibatchOnceWhateverTheOrder() {
        List<MaskingListener.Loss> a = List.of(new MaskingListener.Loss(3, 1, 7, 0.5),
                new MaskingListener.Loss(3, 0, 7, 1.0), new MaskingListener.Loss(4, 0, 8, 0.25));
        List<MaskingListener.Loss> b = List.of(a.get(2), a.get(0), a.get(1), a.get(0)); // a re-run task's duplicate
        assertEquals(1.75 / 3, ParameterAveragingEpochs.meanLoss(a), 0.0);
        assertEquals(ParameterAveragingEpochs.meanLoss(a), ParameterAveragingEpochs.meanLoss(b), 0.0);
        assertTrue(Double.isNaN(ParameterAveragingEpochs.meanLoss(List.of())));
    }
}
