package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.datapruning.ExampleScores;
import dev.pare.common.model.ForwardPass;
import java.util.Random;
import org.apache.spark.sql.catalyst.InternalRow;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** {@link ScoreJob#score}'s rows against DL4J's own forward pass and {@link ExampleScores} on its activations. */
class ScoreJobTest {
    private static final int WIDTH = 6;
    private static final int HIDDEN = 4;
    private static final int CLASSES = 3;

    private static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7)
                .dataType(DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(WIDTH).nOut(5).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(HIDDEN).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(HIDDEN).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    @Test
    void everyScoreMatchesDl4jsActivationsRowByRow() {
        MultiLayerNetwork net = net();
        int n = 9;
        Random random = new Random(3);
        float[] x = new float[n * WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        long[] ids = new long[n];
        int[] labels = new int[n];
        for (int r = 0; r < n; r++) {
            ids[r] = 100 + r;
            labels[r] = r % CLASSES;
        }
        ExampleArrays batch = new ExampleArrays(ids, x, WIDTH, labels);
        // twice through the same buffers: the second batch must not see the first's arrays
        ScoreJob.score(net, batch, CLASSES, new ForwardPass.Buffers());
        ForwardPass.Buffers buffers = new ForwardPass.Buffers();
        ScoreJob.score(net, batch, CLASSES, buffers);
        ScoreBatch scores = ScoreJob.score(net, batch, CLASSES, buffers);

        INDArray features = Nd4j.create(x, new long[] {n, WIDTH}, 'c');
        INDArray h = net.feedForward(features, false).get(2);
        INDArray logits = h.mmul(net.getLayer(2).getParam("W")).addiRowVector(net.getLayer(2).getParam("b"));
        float[] z = logits.dup('c').data().asFloat();
        float[] hRows = h.dup('c').data().asFloat();
        assertEquals(n, scores.size());
        for (int r = 0; r < n; r++) {
            ExampleScores e = ExampleScores.of(z, r * CLASSES, CLASSES, labels[r], hRows, r * HIDDEN, HIDDEN);
            InternalRow row = scores.row(r);
            String where = "row " + r;
            float[] rowLogits = row.getArray(7).toFloatArray();
            assertEquals(CLASSES, rowLogits.length, where);
            for (int k = 0; k < CLASSES; k++) {
                assertEquals(z[r * CLASSES + k], rowLogits[k], 1e-5, where + " logit " + k);
            }
            assertEquals(ids[r], row.getLong(0), where);
            assertEquals(labels[r], row.getInt(1), where);
            assertEquals(e.loss(), row.getDouble(2), 1e-5, where + " loss");
            assertEquals(e.el2n(), row.getDouble(3), 1e-5, where + " el2n");
            assertEquals(e.entropy(), row.getDouble(4), 1e-5, where + " entropy");
            assertEquals(e.margin(), row.getDouble(5), 1e-5, where + " margin");
            assertEquals(e.grand(), row.getDouble(6), 1e-5 * e.grand(), where + " grand");
        }
    }

    @Test
    void rowSquareNormsOfAnyLayoutAreSumsOverTheRow() {
        INDArray h = Nd4j.create(new float[][] {{1, 2, -2}, {0, 0.5f, 3}});
        double[] expected = {9, 9.25};
        for (INDArray a : new INDArray[] {h, h.dup('f'), h.castTo(DataType.DOUBLE), h.transpose().dup('c').transpose()}) {
            double[] got = ScoreJob.rowSquareNorms(a);
            assertEquals(expected[0], got[0], 0.0);
            assertEquals(expected[1], got[1], 0.0);
        }
    }
}
