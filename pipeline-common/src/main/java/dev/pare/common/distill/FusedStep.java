package dev.pare.common.distill;

import dev.pare.common.model.FusedBackprop;
import java.util.Optional;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A KD training step computed by {@link FusedBackprop} (one GEMM per product instead of DL4J's
 * layer machinery; students of dense layers and, in float, plain 2-D convolutions and max pooling,
 * ending in a softmax output layer), with the loss in one pass instead of DL4J's dozen small
 * array operations (see {@code PERF-NOTES.md}).
 *
 * <p>Per minibatch of n rows: the forward pass of every layer, keeping what backprop needs; the
 * {@link KnowledgeDistillationLoss} gradient with respect to the output logits, per example, in
 * one pass over the n×C logits; the backward pass, written straight into the network's flattened
 * gradient view (for a dense layer {@code dW = aᵀ·δ}, {@code db = Σ_rows δ},
 * {@code ∂L/∂a = δ·Wᵀ}; a convolution is the same on its im2col matrix). DL4J's own updater then
 * does what it does inside {@code fit}: divides by n and applies Adam with its schedule; the update
 * is subtracted from the parameters and the iteration count advanced. So the updater state, the
 * saved model and a resumed run are the same as with {@code fit}; only rounding differs.
 */
public final class FusedStep implements TrainingStep {
    private final MultiLayerNetwork net;
    private final FusedBackprop passes;
    private final int numClasses;
    private final double temperature;
    private final double alpha;
    private final HiddenStates hidden;
    private final DataType type;

    /**
     * Why {@code net} cannot be trained by this step (naming the layer), or empty when it can: the
     * networks {@link FusedBackprop} computes.
     */
    public static Optional<String> unsupported(MultiLayerNetwork net) {
        return FusedBackprop.unsupported(net);
    }

    /**
     * A plain cross-entropy step for training {@code net} from labels (a teacher): the KD loss with
     * α = 1, whose teacher term vanishes, so {@link #fit} takes {@code [n, 2C]} labels of one-hot
     * rows followed by C ignored columns. Empty when this step cannot train {@code net}
     * ({@link #unsupported}) or its output layer's loss is not unweighted multi-class
     * cross-entropy ({@code LossMCXENT}), the loss this step computes.
     */
    public static Optional<FusedStep> crossEntropy(MultiLayerNetwork net) {
        if (unsupported(net).isPresent()) {
            return Optional.empty();
        }
        OutputLayer out = (OutputLayer) net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer();
        // DL4J's default clips probabilities below 1e-10 in the loss: not computed here, it changes nothing above.
        if (!(out.getLossFn() instanceof LossMCXENT ce) || ce.getWeights() != null || ce.getSoftmaxClipEps() > 1e-10) {
            return Optional.empty();
        }
        return Optional.of(new FusedStep(net, 1.0, 1.0, null));
    }

    /**
     * @param net a network {@link #unsupported} accepts; trained in place
     * @param hidden hidden-state targets added to the loss, or null
     */
    FusedStep(MultiLayerNetwork net, double temperature, double alpha, HiddenStates hidden) {
        Optional<String> why = unsupported(net);
        if (why.isPresent()) {
            throw new IllegalArgumentException("the fused step cannot train this network: " + why.get());
        }
        this.net = net;
        this.temperature = temperature;
        this.alpha = alpha;
        this.hidden = hidden;
        this.type = net.params().dataType();
        this.passes = new FusedBackprop(net);
        JavaAdam.install(net.getUpdater(true));
        numClasses = (int) net.getLayer(net.getnLayers() - 1).getParam("W").size(1);
    }

    @Override
    public double fit(INDArray features, INDArray kdLabels) {
        int n = (int) features.size(0);
        INDArray a = passes.forward(features);
        // The loss works on n×C values: copied out and back in one transfer each (one device sync on CUDA).
        double[] logits = a.dup('c').data().asDouble();
        double[] labels = (kdLabels.ordering() == 'c' && !kdLabels.isView() ? kdLabels : kdLabels.dup('c'))
                .data().asDouble();
        double[] delta = new double[n * numClasses];
        double loss = lossAndGradient(logits, labels, delta, n);
        INDArray d = Nd4j.create(delta, new long[] {n, numClasses}, 'c').castTo(type);
        INDArray[] hiddenGrads = new INDArray[net.getnLayers()];
        if (hidden != null) {
            loss += hiddenLossAndGradients(hidden.targets(features), n, hiddenGrads);
        }
        passes.backward(d, hiddenGrads);
        int iteration = net.getIterationCount();
        ((BaseMultiLayerUpdater<?>) net.getUpdater()).update(passes.gradient(), iteration, net.getEpochCount(), n,
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
    private double hiddenLossAndGradients(INDArray[] targets, int n, INDArray[] grads) {
        double loss = 0;
        for (int k = 0; k < targets.length; k++) {
            int l = hidden.pairs().get(k).layer();
            INDArray diff = passes.denseOutput(l).sub(targets[k].castTo(type));
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
