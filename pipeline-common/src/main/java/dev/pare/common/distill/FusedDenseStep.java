package dev.pare.common.distill;

import dev.pare.common.model.Networks;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A KD training step for students made of dense layers and a softmax output layer, computed with
 * one GEMM per product instead of DL4J's layer machinery, which recomputes each layer's
 * pre-activation during backprop, computes the first layer's input gradient nobody needs and
 * evaluates the loss in a dozen small array operations (see {@code PERF-NOTES.md}).
 *
 * <p>Per minibatch of n rows: forward {@code z_l = a_{l−1}·W_l + b_l}, {@code a_l = act_l(z_l)}
 * with the layers' own DL4J activation functions; the {@link KnowledgeDistillationLoss} gradient
 * with respect to the output logits, per example, in one pass over the n×C logits; backward
 * {@code dW_l = a_{l−1}ᵀ·δ_l}, {@code db_l = Σ_rows δ_l}, {@code δ_{l−1} = act'(z_{l−1}) ⊙ δ_l·W_lᵀ},
 * written straight into the network's flattened gradient view. DL4J's own updater then does what
 * it does inside {@code fit}: divides by n and applies Adam with its schedule; the update is
 * subtracted from the parameters and the iteration count advanced. So the updater state, the
 * saved model and a resumed run are the same as with {@code fit}; only rounding differs.
 */
public final class FusedDenseStep implements TrainingStep {
    private final MultiLayerNetwork net;
    private final int depth;
    private final INDArray[] weights;
    private final INDArray[] biases;
    private final INDArray[] weightGrads;
    private final INDArray[] biasGrads;
    private final IActivation[] activations;
    private final Gradient gradient;
    private final int numClasses;
    private final double temperature;
    private final double alpha;
    private final HiddenStates hidden;
    private final DataType type;

    /**
     * Why {@code net} cannot be trained by this step (naming the layer), or empty when it can: every
     * layer but the last a {@link DenseLayer}, the last an {@link OutputLayer} with softmax, all
     * with biases, in float or double, without pre-processors, dropout, weight noise, constraints,
     * regularization, gradient normalization or layer normalization.
     */
    public static Optional<String> unsupported(MultiLayerNetwork net) {
        DataType type = net.params().dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            return Optional.of("its parameters are " + type + ", not FLOAT or DOUBLE");
        }
        Optional<String> chain = Networks.notDenseChain(net);
        if (chain.isPresent()) {
            return chain;
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int n = conf.getConfs().size();
        for (int i = 0; i < n; i++) {
            BaseLayer b = (BaseLayer) conf.getConf(i).getLayer();
            String name = "layer " + i + (b.getLayerName() == null ? "" : " (" + b.getLayerName() + ")");
            boolean hasBias = b instanceof DenseLayer d ? d.hasBias() : ((OutputLayer) b).hasBias();
            String why = !hasBias ? "has no bias"
                    : b.getConstraints() != null && !b.getConstraints().isEmpty() ? "has constraints"
                    : !b.getRegularization().isEmpty() || !b.getRegularizationBias().isEmpty() ? "has regularization"
                    : b.getGradientNormalization() != null && b.getGradientNormalization() != GradientNormalization.None
                            ? "has gradient normalization"
                    : i == n - 1 && !(b.getActivationFn() instanceof ActivationSoftmax)
                            ? "has activation " + b.getActivationFn() + ", not softmax"
                    : null;
            if (why != null) {
                return Optional.of(name + " " + why);
            }
        }
        return Optional.empty();
    }

    /**
     * A plain cross-entropy step for training {@code net} from labels (a teacher): the KD loss with
     * α = 1, whose teacher term vanishes, so {@link #fit} takes {@code [n, 2C]} labels of one-hot
     * rows followed by C ignored columns. Empty when this step cannot train {@code net}
     * ({@link #unsupported}) or its output layer's loss is not unweighted multi-class
     * cross-entropy ({@code LossMCXENT}), the loss this step computes.
     */
    public static Optional<FusedDenseStep> crossEntropy(MultiLayerNetwork net) {
        if (unsupported(net).isPresent()) {
            return Optional.empty();
        }
        OutputLayer out = (OutputLayer) net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer();
        // DL4J's default clips probabilities below 1e-10 in the loss: not computed here, it changes nothing above.
        if (!(out.getLossFn() instanceof LossMCXENT ce) || ce.getWeights() != null || ce.getSoftmaxClipEps() > 1e-10) {
            return Optional.empty();
        }
        return Optional.of(new FusedDenseStep(net, 1.0, 1.0, null));
    }

    /**
     * @param net a network {@link #unsupported} accepts; trained in place
     * @param hidden hidden-state targets added to the loss, or null
     */
    FusedDenseStep(MultiLayerNetwork net, double temperature, double alpha, HiddenStates hidden) {
        Optional<String> why = unsupported(net);
        if (why.isPresent()) {
            throw new IllegalArgumentException("the fused step cannot train this network: " + why.get());
        }
        this.net = net;
        this.temperature = temperature;
        this.alpha = alpha;
        this.hidden = hidden;
        this.type = net.params().dataType();
        if (net.getFlattenedGradients() == null) {
            net.initGradientsView();
        }
        net.getUpdater(true);
        depth = net.getnLayers();
        weights = new INDArray[depth];
        biases = new INDArray[depth];
        weightGrads = new INDArray[depth];
        biasGrads = new INDArray[depth];
        activations = new IActivation[depth];
        gradient = new DefaultGradient(net.getFlattenedGradients());
        for (int i = 0; i < depth; i++) {
            Layer layer = net.getLayer(i);
            weights[i] = layer.getParam("W");
            biases[i] = layer.getParam("b");
            Map<String, INDArray> views = layer.conf().getLayer().initializer()
                    .getGradientsFromFlattened(layer.conf(), layer.getGradientsViewArray());
            weightGrads[i] = views.get("W");
            biasGrads[i] = views.get("b").reshape(1, weights[i].size(1));
            gradient.setGradientFor(i + "_W", weightGrads[i]);
            gradient.setGradientFor(i + "_b", views.get("b"));
            activations[i] = ((BaseLayer) layer.conf().getLayer()).getActivationFn();
        }
        numClasses = (int) weights[depth - 1].size(1);
    }

    /** Work arrays for one minibatch size, reused across steps (an epoch has at most two sizes). */
    private final class Buffers {
        final int rows;
        final INDArray[] pre = new INDArray[depth];
        final INDArray[] post = new INDArray[depth];
        final INDArray[] epsilon = new INDArray[depth];
        final INDArray ones;

        Buffers(int rows) {
            this.rows = rows;
            for (int i = 0; i < depth; i++) {
                long out = weights[i].size(1);
                pre[i] = Nd4j.createUninitialized(type, new long[] {rows, out}, 'f');
                post[i] = Nd4j.createUninitialized(type, new long[] {rows, out}, 'f');
                epsilon[i] = Nd4j.createUninitialized(type, new long[] {rows, weights[i].size(0)}, 'f');
            }
            ones = Nd4j.ones(type, 1, rows);
        }
    }

    private Buffers full;
    private Buffers partial;

    private Buffers buffers(int rows) {
        if (full != null && full.rows == rows) {
            return full;
        }
        if (partial != null && partial.rows == rows) {
            return partial;
        }
        Buffers b = new Buffers(rows);
        if (full == null) {
            full = b;
        } else {
            partial = b;
        }
        return b;
    }

    @Override
    public double fit(INDArray features, INDArray kdLabels) {
        int n = (int) features.size(0);
        Buffers buf = buffers(n);
        INDArray[] inputs = new INDArray[depth];
        INDArray a = features.castTo(type);
        for (int i = 0; i < depth; i++) {
            inputs[i] = a;
            Nd4j.gemm(a, weights[i], buf.pre[i], false, false, 1.0, 0.0);
            buf.pre[i].addiRowVector(biases[i]);
            if (i < depth - 1) {
                a = activations[i].getActivation(buf.post[i].assign(buf.pre[i]), true);
            }
        }
        // The loss works on n×C values: copied out and back in one transfer each (one device sync on CUDA).
        double[] logits = buf.pre[depth - 1].dup('c').data().asDouble();
        double[] labels = (kdLabels.ordering() == 'c' && !kdLabels.isView() ? kdLabels : kdLabels.dup('c'))
                .data().asDouble();
        double[] delta = new double[n * numClasses];
        double loss = lossAndGradient(logits, labels, delta, n);
        INDArray d = Nd4j.create(delta, new long[] {n, numClasses}, 'c').castTo(type);
        INDArray[] hiddenGrads = new INDArray[depth];
        if (hidden != null) {
            loss += hiddenLossAndGradients(hidden.targets(features), buf, n, hiddenGrads);
        }
        for (int i = depth - 1; i >= 0; i--) {
            Nd4j.gemm(inputs[i], d, weightGrads[i], true, false, 1.0, 0.0);
            Nd4j.gemm(buf.ones, d, biasGrads[i], false, false, 1.0, 0.0);
            if (i > 0) {
                Nd4j.gemm(d, weights[i], buf.epsilon[i], false, true, 1.0, 0.0);
                if (hiddenGrads[i - 1] != null) {
                    buf.epsilon[i].addi(hiddenGrads[i - 1]);
                }
                d = activations[i - 1].backprop(buf.pre[i - 1], buf.epsilon[i]).getFirst();
            }
        }
        int iteration = net.getIterationCount();
        ((BaseMultiLayerUpdater<?>) net.getUpdater()).update(gradient, iteration, net.getEpochCount(), n,
                LayerWorkspaceMgr.noWorkspaces());
        INDArray params = net.params();
        params.subi(net.getFlattenedGradients().reshape(params.shape()));
        net.setIterationCount(iteration + 1);
        return loss;
    }

    /**
     * The minibatch mean of {@link HiddenStates}' loss; into {@code grads[l]} the per-example
     * gradient {@code 2β/d_l · (h_s^l − h_t^l)} with respect to each paired layer's output.
     */
    private double hiddenLossAndGradients(INDArray[] targets, Buffers buf, int n, INDArray[] grads) {
        double loss = 0;
        for (int k = 0; k < targets.length; k++) {
            int l = hidden.pairs().get(k).layer();
            INDArray diff = buf.post[l].sub(targets[k].castTo(type));
            double width = diff.size(1);
            double norm = diff.norm2Number().doubleValue();
            loss += hidden.weight() * norm * norm / width / n;
            grads[l] = diff.muli(2 * hidden.weight() / width);
        }
        return loss;
    }

    /**
     * The mean {@link KnowledgeDistillationLoss} of the minibatch, and its per-example gradient with
     * respect to the logits into {@code delta}: {@code α·(σ(z) − y) + (1−α)·T·(σ(z/T) − σ(t/T))}.
     */
    private double lossAndGradient(double[] logits, double[] labels, double[] delta, int n) {
        int c = numClasses;
        double[] p = new double[c];
        double[] pT = new double[c];
        double[] qT = new double[c];
        double total = 0;
        for (int r = 0; r < n; r++) {
            int z = r * c;
            int y = r * 2 * c;
            int t = y + c;
            double logZ = logSumExp(logits, z, c, 1.0, p);
            double logZT = logSumExp(logits, z, c, temperature, pT);
            double logQT = logSumExp(labels, t, c, temperature, qT);
            double ce = 0;
            double kl = 0;
            for (int k = 0; k < c; k++) {
                double logP = logits[z + k] - logZ;
                ce -= labels[y + k] * logP;
                double logQk = labels[t + k] / temperature - logQT;
                double logPk = logits[z + k] / temperature - logZT;
                kl += qT[k] * (logQk - logPk);
                delta[z + k] = alpha * (p[k] - labels[y + k]) + (1 - alpha) * temperature * (pT[k] - qT[k]);
            }
            total += alpha * ce + (1 - alpha) * temperature * temperature * kl;
        }
        return total / n;
    }

    /** log Σ exp(v[from + k] / scale), with the softmax of {@code v / scale} into {@code softmax}. */
    private static double logSumExp(double[] v, int from, int c, double scale, double[] softmax) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < c; k++) {
            max = Math.max(max, v[from + k] / scale);
        }
        double sum = 0;
        for (int k = 0; k < c; k++) {
            softmax[k] = Math.exp(v[from + k] / scale - max);
            sum += softmax[k];
        }
        for (int k = 0; k < c; k++) {
            softmax[k] /= sum;
        }
        return max + Math.log(sum);
    }
}
