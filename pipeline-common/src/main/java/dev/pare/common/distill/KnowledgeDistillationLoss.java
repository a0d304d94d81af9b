package dev.pare.common.distill;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Offline knowledge-distillation loss (Hinton, Vinyals, Dean, "Distilling the Knowledge in a
 * Neural Network", 2015) as a DL4J loss function on the student's output-layer logits {@code z}:
 *
 * <pre>L = α·CE(y, σ(z)) + (1−α)·T²·KL(σ(t/T) ‖ σ(z/T))</pre>
 *
 * where {@code t} are the teacher's logits and σ the softmax. The T² factor keeps the gradient
 * of the soft term at the same scale whatever T is: its gradient with respect to {@code z} is
 * {@code (1−α)·T·(σ(z/T) − σ(t/T))}, next to {@code α·(σ(z) − y)} for the hard term.
 *
 * <p>Labels are {@code [batch, 2C]}: the one-hot hard label in columns {@code [0, C)} and the
 * teacher's logits in {@code [C, 2C)}. The output layer's activation is ignored: the loss works on
 * the pre-activation {@code z} directly (the student's output layer is softmax). Gradients are per
 * example; DL4J divides by the minibatch size.
 */
public final class KnowledgeDistillationLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;
    private final double temperature;
    private final double alpha;

    @JsonCreator
    public KnowledgeDistillationLoss(@JsonProperty("temperature") double temperature,
                                     @JsonProperty("alpha") double alpha) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be > 0, was " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], was " + alpha);
        }
        this.temperature = temperature;
        this.alpha = alpha;
    }

    @JsonProperty("temperature")
    public double getTemperature() {
        return temperature;
    }

    @JsonProperty("alpha")
    public double getAlpha() {
        return alpha;
    }

    /**
     * Writes the label row of one example, {@code 2C} values, into {@code dest} at {@code offset}:
     * the one-hot {@code label}, then the teacher's logits {@code teacherLogits[from .. from + C)}.
     */
    public static void labelRow(int label, float[] teacherLogits, int from, int classes, float[] dest, int offset) {
        java.util.Arrays.fill(dest, offset, offset + classes, 0f);
        dest[offset + label] = 1f;
        System.arraycopy(teacherLogits, from, dest, offset + classes, classes);
    }

    private static INDArray logSoftmax(INDArray z) {
        INDArray shifted = z.subColumnVector(z.max(true, 1));
        INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(lse);
    }

    /** The two halves of the labels: one-hot {@code y} and teacher logits {@code t}, each {@code [batch, C]}. */
    private static INDArray[] split(INDArray labels, INDArray z) {
        if (labels.columns() != 2 * z.columns() || labels.rows() != z.rows()) {
            throw new IllegalArgumentException("KD labels must be [batch, 2C] = one-hot | teacher logits; got labels "
                    + labels.rows() + "x" + labels.columns() + " for logits " + z.rows() + "x" + z.columns());
        }
        long c = z.columns();
        return new INDArray[] {
            labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)),
            labels.get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c))};
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray[] yt = split(labels, preOutput);
        INDArray y = yt[0];
        INDArray t = yt[1];
        INDArray z = preOutput.castTo(labels.dataType());
        INDArray ce = logSoftmax(z).muli(y).sum(1).negi();
        INDArray logQ = logSoftmax(t.div(temperature));
        INDArray logP = logSoftmax(z.div(temperature));
        INDArray kl = Transforms.exp(logQ, true).muli(logQ.sub(logP)).sum(1);
        INDArray score = ce.muli(alpha).addi(kl.muli((1 - alpha) * temperature * temperature));
        if (mask != null) {
            score.muli(mask.reshape(score.length()));
        }
        return score.reshape(score.length(), 1);
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / preOutput.rows() : sum;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray[] yt = split(labels, preOutput);
        INDArray y = yt[0];
        INDArray t = yt[1];
        INDArray z = preOutput.castTo(labels.dataType());
        INDArray hard = Transforms.exp(logSoftmax(z), false).subi(y).muli(alpha);
        INDArray pT = Transforms.exp(logSoftmax(z.div(temperature)), false);
        INDArray qT = Transforms.exp(logSoftmax(t.div(temperature)), false);
        INDArray grad = hard.addi(pT.subi(qT).muli((1 - alpha) * temperature));
        if (mask != null) {
            grad.muliColumnVector(mask.reshape(grad.rows(), 1));
        }
        return grad.castTo(preOutput.dataType());
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return "KnowledgeDistillationLoss(T=" + temperature + ", alpha=" + alpha + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KnowledgeDistillationLoss k && k.temperature == temperature && k.alpha == alpha;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(temperature) * 31 + Double.hashCode(alpha);
    }
}
