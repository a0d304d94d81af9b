package dev.pare.common.train;

import dev.pare.common.util.Names;
import dev.pare.common.util.Seeds;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Teacher architectures that {@code pare train-teacher} can build, by configuration name. */
public enum Architecture {
    /**
     * LeNet-300-100 (LeCun et al. 1998; the pruning benchmark of Han et al. 2015): dense
     * 784-300-100-10, ReLU, softmax output, layers named fc1, fc2, fc3 as in the PyTorch peer.
     */
    LENET_300_100("lenet-300-100") {
        @Override
        public MultiLayerConfiguration configuration(long inputs, int classes, double learningRate, long seed) {
            return new NeuralNetConfiguration.Builder()
                    .seed(dl4jSeed(seed))
                    .dataType(DataType.FLOAT)
                    .updater(new Adam(learningRate))
                    .weightInit(WeightInit.RELU)
                    .list()
                    .layer(new DenseLayer.Builder().name("fc1").nIn(inputs).nOut(300).activation(Activation.RELU).build())
                    .layer(new DenseLayer.Builder().name("fc2").nIn(300).nOut(100).activation(Activation.RELU).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("fc3").nIn(100).nOut(classes)
                            .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                    .build();
        }
    };

    private final String configName;

    Architecture(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** @param seed Pare's seed; the same seed always gives the same initial weights */
    public abstract MultiLayerConfiguration configuration(long inputs, int classes, double learningRate, long seed);

    /**
     * DL4J's weight-init seed for Pare's {@code seed}. DL4J treats a seed of 0 as "not set" and
     * initializes from the clock, so the seed is mixed into a non-zero value.
     */
    static long dl4jSeed(long seed) {
        long s = Seeds.derive(seed, "weight-init", 0);
        return s == 0 ? 1 : s;
    }

    public static Architecture fromName(String path, String name) {
        return Names.lookup(Architecture.class, Architecture::configName, path, name);
    }
}
