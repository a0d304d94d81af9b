package dev.pare.common.train;

import dev.pare.common.util.Names;
import dev.pare.common.util.Seeds;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
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
        public MultiLayerConfiguration configuration(InputShape input, int classes, double learningRate, long seed) {
            long inputs = input.length();
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
    },

    /**
     * A LeNet-5-like CNN (LeCun et al. 1998, in the Caffe/PyTorch-example variant): conv 5×5×20 →
     * max-pool 2 → conv 5×5×50 → max-pool 2 → dense 500 → softmax, ReLU, layers named conv1, pool1,
     * conv2, pool2, fc1, fc2. Fed flat rows of {@code channels × height × width} features.
     */
    LENET_5("lenet-5") {
        @Override
        public MultiLayerConfiguration configuration(InputShape input, int classes, double learningRate, long seed) {
            return new NeuralNetConfiguration.Builder()
                    .seed(dl4jSeed(seed))
                    .dataType(DataType.FLOAT)
                    .updater(new Adam(learningRate))
                    .weightInit(WeightInit.RELU)
                    .list()
                    .layer(new ConvolutionLayer.Builder(5, 5).name("conv1").nOut(20).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1")
                            .kernelSize(2, 2).stride(2, 2).build())
                    .layer(new ConvolutionLayer.Builder(5, 5).name("conv2").nOut(50).activation(Activation.RELU).build())
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool2")
                            .kernelSize(2, 2).stride(2, 2).build())
                    .layer(new DenseLayer.Builder().name("fc1").nOut(500).activation(Activation.RELU).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("fc2").nOut(classes)
                            .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                    .setInputType(InputType.convolutionalFlat(input.height(), input.width(), input.channels()))
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

    /**
     * @param input the shape of one example (dense architectures use its flattened length)
     * @param seed Pare's seed; the same seed always gives the same initial weights
     */
    public abstract MultiLayerConfiguration configuration(InputShape input, int classes, double learningRate, long seed);

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
