package dev.pare.common.evaluation;

import java.io.Serializable;

/**
 * Mergeable classification metrics from logits: accuracy, mean cross-entropy, agreement with a
 * reference model's predictions (share of equal argmax) and per-class accuracy. Argmax ties go to
 * the lower class index.
 */
public final class ClassificationMetrics implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int numClasses;
    private long count;
    private long correct;
    private long agree;
    private long agreeCount;
    private double lossSum;
    private final long[] perClassCount;
    private final long[] perClassCorrect;

    public ClassificationMetrics(int numClasses) {
        this.numClasses = numClasses;
        this.perClassCount = new long[numClasses];
        this.perClassCorrect = new long[numClasses];
    }

    /**
     * Adds rows of {@code logits} (row-major {@code [labels.length, numClasses]}).
     *
     * @param reference the reference model's predicted class per row, or null
     */
    public void add(float[] logits, int[] labels, int[] reference) {
        for (int r = 0; r < labels.length; r++) {
            int off = r * numClasses;
            int pred = argmax(logits, off, numClasses);
            double max = logits[off + pred];
            double sum = 0;
            for (int c = 0; c < numClasses; c++) {
                sum += Math.exp(logits[off + c] - max);
            }
            lossSum += max + Math.log(sum) - logits[off + labels[r]];
            count++;
            perClassCount[labels[r]]++;
            if (pred == labels[r]) {
                correct++;
                perClassCorrect[labels[r]]++;
            }
            if (reference != null) {
                agreeCount++;
                if (reference[r] == pred) {
                    agree++;
                }
            }
        }
    }

    public static int argmax(float[] values, int offset, int length) {
        int best = 0;
        for (int c = 1; c < length; c++) {
            if (values[offset + c] > values[offset + best]) {
                best = c;
            }
        }
        return best;
    }

    public void merge(ClassificationMetrics o) {
        if (o.numClasses != numClasses) {
            throw new IllegalArgumentException("cannot merge metrics of " + o.numClasses + " classes into " + numClasses);
        }
        count += o.count;
        correct += o.correct;
        agree += o.agree;
        agreeCount += o.agreeCount;
        lossSum += o.lossSum;
        for (int c = 0; c < numClasses; c++) {
            perClassCount[c] += o.perClassCount[c];
            perClassCorrect[c] += o.perClassCorrect[c];
        }
    }

    public long count() {
        return count;
    }

    public double accuracy() {
        return count == 0 ? Double.NaN : (double) correct / count;
    }

    public double meanLoss() {
        return count == 0 ? Double.NaN : lossSum / count;
    }

    /** Share of rows where the prediction equals the reference's; NaN when no reference was given. */
    public double agreement() {
        return agreeCount == 0 ? Double.NaN : (double) agree / agreeCount;
    }

    public double[] perClassAccuracy() {
        double[] a = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            a[c] = perClassCount[c] == 0 ? Double.NaN : (double) perClassCorrect[c] / perClassCount[c];
        }
        return a;
    }

    public long[] perClassCount() {
        return perClassCount.clone();
    }
}
