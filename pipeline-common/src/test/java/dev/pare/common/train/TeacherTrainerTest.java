package dev.pare.common.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.distill.Distiller;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class TeacherTrainerTest {
    /** Two clusters per class in 784 dimensions: learnable, not trivial. */
    private static ExampleArrays data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 784];
        int[] y = new int[n];
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
            y[i] = r.nextInt(10);
            for (int j = 0; j < 784; j++) {
                x[i * 784 + j] = (float) (r.nextDouble() * 0.3 + ((j % 10 == y[i]) ? 0.7 : 0.0));
            }
        }
        return new ExampleArrays(ids, x, 784, y);
    }

    @Test
    void seedZeroIsASeedToo() {
        // DL4J itself treats seed 0 as unset (clock-seeded init); Pare's seed 0 must still be reproducible.
        MultiLayerNetwork a = new MultiLayerNetwork(Architecture.LENET_300_100.configuration(new InputShape(1, 28, 28), 10, 1e-3, 0));
        a.init();
        MultiLayerNetwork b = new MultiLayerNetwork(Architecture.LENET_300_100.configuration(new InputShape(1, 28, 28), 10, 1e-3, 0));
        b.init();
        assertArrayEquals(a.params().toFloatVector(), b.params().toFloatVector());
    }

    @Test
    void sameSeedTrainsIdenticalWeightsAndLearns() {
        ExampleArrays train = data(1024, 1);
        MultiLayerNetwork a = TeacherTrainer.train(Architecture.LENET_300_100.configuration(new InputShape(1, 28, 28), 10, 1e-3, 5), train, 10,
                2, 128, 5, e -> { });
        MultiLayerNetwork b = TeacherTrainer.train(Architecture.LENET_300_100.configuration(new InputShape(1, 28, 28), 10, 1e-3, 5), train, 10,
                2, 128, 5, e -> { });
        assertArrayEquals(a.params().toFloatVector(), b.params().toFloatVector());
        double acc = Distiller.evaluate(a, data(500, 2), 10, 100).accuracy();
        assertTrue(acc > 0.9, "accuracy " + acc);
    }
}
