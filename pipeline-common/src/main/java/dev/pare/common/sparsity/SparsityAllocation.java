package dev.pare.common.sparsity;

import dev.pare.common.util.Names;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * How a model-wide target sparsity s is shared among the prunable layers. A layer's size
 * {@code n_l = nIn·nOut} counts its weights only (biases are never pruned).
 *
 * <ul>
 *   <li>{@code uniform}: every layer is pruned to s within its criterion's comparison group.</li>
 *   <li>{@code global}: one ranking across all layers; the {@code round(s·Σ n_l)} lowest scores
 *       of the whole model are pruned ({@link #global}).</li>
 *   <li>{@code outlier-weighted}: OWL (Yin et al., "Outlier Weighed Layerwise Sparsity (OWL): A
 *       Missing Secret Sauce for Pruning LLMs to High Sparsity", ICML 2024); layers with more
 *       outlier scores keep more weights ({@link #outlierWeighted}).</li>
 * </ul>
 *
 * <p>Uniform and outlier-weighted only decide per-layer sparsities; each layer is then pruned
 * with {@link UnstructuredMasks#keep} in its own comparison group ({@link #perLayer}), so the
 * overall sparsity matches s up to the rounding of each group's pruned count.
 */
public final class SparsityAllocation {
    /** Upper bound of any OWL layer sparsity: a layer keeps at least 1% of its weights. */
    public static final double MAX_LAYER_SPARSITY = 0.99;

    private SparsityAllocation() {}

    /** The allocation methods by configuration name. */
    public enum Method {
        UNIFORM("uniform"),
        GLOBAL("global"),
        OUTLIER_WEIGHTED("outlier-weighted");

        private final String configName;

        Method(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public static Method fromName(String path, String name) {
            return Names.lookup(Method.class, Method::configName, path, name);
        }
    }

    /**
     * One prunable layer.
     *
     * @param name for messages and reports
     * @param scores {@code [nIn][nOut]}, larger = more important; not copied
     * @param group the comparison group of the layer's criterion, used by uniform and OWL
     */
    public record LayerScores(String name, double[][] scores, ComparisonGroup group) {
        public LayerScores {
            if (name == null || scores == null || group == null) {
                throw new IllegalArgumentException("layer scores need a name, scores and a comparison group (layer "
                        + name + ")");
            }
            int nOut = scores.length == 0 ? 0 : scores[0].length;
            for (int i = 0; i < scores.length; i++) {
                if (scores[i].length != nOut) {
                    throw new IllegalArgumentException("scores of layer " + name + " are ragged: row " + i + " has "
                            + scores[i].length + " columns, row 0 has " + nOut);
                }
            }
            if ((long) scores.length * nOut > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("layer " + name + " has " + scores.length + "x" + nOut
                        + " weights, more than one mask can index");
            }
        }

        public int nIn() {
            return scores.length;
        }

        public int nOut() {
            return scores.length == 0 ? 0 : scores[0].length;
        }

        /** Number of weights {@code n_l = nIn·nOut}. */
        public int size() {
            return nIn() * nOut();
        }
    }

    /**
     * OWL's parameters.
     *
     * @param outlierThreshold M: a score is an outlier when greater than M × the layer's mean score
     *     (paper and default: 5)
     * @param band λ: layer sparsities stay within {@code [s − λ, s + λ]} (default 0.08, the
     *     paper's most common setting)
     */
    public record OwlParameters(double outlierThreshold, double band) {
        public static final OwlParameters DEFAULTS = new OwlParameters(5, 0.08);

        public OwlParameters {
            if (!(outlierThreshold > 0 && Double.isFinite(outlierThreshold))) {
                throw new IllegalArgumentException("OWL outlier threshold M must be a positive number, was "
                        + outlierThreshold);
            }
            if (!(band >= 0 && band < 1)) {
                throw new IllegalArgumentException("OWL band lambda must be in [0, 1), was " + band);
            }
        }
    }

    /**
     * OWL's result.
     *
     * @param sparsities target sparsity of each layer, in the order given
     * @param outlierRatios D_l of each layer, for the report
     */
    public record OwlTargets(double[] sparsities, double[] outlierRatios) {
        public OwlTargets {
            sparsities = sparsities.clone();
            outlierRatios = outlierRatios.clone();
        }

        @Override
        public double[] sparsities() {
            return sparsities.clone();
        }

        @Override
        public double[] outlierRatios() {
            return outlierRatios.clone();
        }
    }

    /**
     * Masks from {@link #allocate}.
     *
     * @param keep keep flags of each layer, in the order given; not copied
     * @param targets per-layer target sparsities (for {@code global}, which has none, the achieved ones)
     * @param outlierRatios D_l of each layer for {@code outlier-weighted}, empty otherwise
     */
    public record Allocation(Method method, List<boolean[][]> keep, double[] targets, double[] outlierRatios) {
        public Allocation {
            keep = List.copyOf(keep);
            targets = targets.clone();
            outlierRatios = outlierRatios.clone();
        }

        @Override
        public double[] targets() {
            return targets.clone();
        }

        @Override
        public double[] outlierRatios() {
            return outlierRatios.clone();
        }

        /** Share pruned of all weights of all layers. */
        public double overallSparsity() {
            return achievedSparsity(keep);
        }
    }

    /**
     * Per-layer masks for {@code target} by {@code method}.
     *
     * @param owl used by {@code outlier-weighted} only; may be null for the others
     */
    public static Allocation allocate(Method method, List<LayerScores> layers, double target, OwlParameters owl) {
        return switch (method) {
            case UNIFORM -> {
                double[] targets = new double[layers.size()];
                Arrays.fill(targets, checkSparsity(target));
                yield new Allocation(method, perLayer(layers, targets), targets, new double[0]);
            }
            case GLOBAL -> {
                List<boolean[][]> keep = global(layers, target);
                double[] achieved = keep.stream().mapToDouble(SparsityAllocation::achievedSparsity).toArray();
                yield new Allocation(method, keep, achieved, new double[0]);
            }
            case OUTLIER_WEIGHTED -> {
                OwlTargets t = outlierWeighted(layers, target, owl);
                yield new Allocation(method, perLayer(layers, t.sparsities()), t.sparsities(), t.outlierRatios());
            }
        };
    }

    /**
     * Global threshold: the {@code round(s·Σ n_l)} lowest scores over all layers are pruned.
     *
     * <p>Scores are compared across layers as they are, so this suits criteria whose scale is
     * comparable between layers (magnitude); each layer's comparison group is ignored. Ties break
     * by the earlier layer first, then within a layer by the {@link UnstructuredMasks} index
     * {@code j·nIn + i}. A layer may end fully pruned. NaN scores are rejected.
     */
    public static List<boolean[][]> global(List<LayerScores> layers, double sparsity) {
        checkSparsity(sparsity);
        long total = layers.stream().mapToLong(LayerScores::size).sum();
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("global allocation ranks at most " + Integer.MAX_VALUE
                    + " weights in one array, the layers have " + total);
        }
        double[] flat = new double[(int) total];
        int offset = 0;
        for (LayerScores layer : layers) {
            int nIn = layer.nIn();
            for (int j = 0; j < layer.nOut(); j++) {
                for (int i = 0; i < nIn; i++) {
                    flat[offset + j * nIn + i] = layer.scores()[i][j];
                }
            }
            offset += layer.size();
        }
        boolean[] pruned = new boolean[flat.length];
        for (int idx : UnstructuredMasks.lowest(flat, UnstructuredMasks.prunedCount(flat.length, sparsity))) {
            pruned[idx] = true;
        }
        List<boolean[][]> masks = new ArrayList<>(layers.size());
        offset = 0;
        for (LayerScores layer : layers) {
            int nIn = layer.nIn();
            boolean[][] keep = new boolean[nIn][layer.nOut()];
            for (int j = 0; j < layer.nOut(); j++) {
                for (int i = 0; i < nIn; i++) {
                    keep[i][j] = !pruned[offset + j * nIn + i];
                }
            }
            masks.add(keep);
            offset += layer.size();
        }
        return masks;
    }

    /**
     * Outlier-weighted layer sparsities (OWL).
     *
     * <p>Per layer, the outlier ratio {@code D_l} ({@link #outlierRatio}) is mapped linearly from
     * {@code [min D, max D]} onto an offset in {@code [−λ, +λ]}; layer sparsity is
     * {@code s_l = clip(s − offset_l + c, max(0, s − λ), min(s + λ, 0.99))}, so the layers with
     * the most outliers are pruned least. The constant c is found by bisection so that the
     * parameter-weighted mean {@code Σ n_l·s_l / Σ n_l} equals s (to about 1e-15; the paper
     * centres the unweighted mean, which fits LLM blocks of equal size but not an MLP).
     *
     * <p>Degenerate cases: all D equal (and a single layer) give exactly s everywhere; λ = 0
     * gives s everywhere; s = 0 gives 0 everywhere.
     *
     * @param sparsity s, in {@code [0, 0.99]}: above 0.99 no clipped allocation can reach the mean
     */
    public static OwlTargets outlierWeighted(List<LayerScores> layers, double sparsity, OwlParameters owl) {
        checkSparsity(sparsity);
        if (owl == null) {
            throw new IllegalArgumentException("outlier-weighted allocation needs OWL parameters, got null");
        }
        if (sparsity > MAX_LAYER_SPARSITY) {
            throw new IllegalArgumentException("outlier-weighted allocation caps each layer at " + MAX_LAYER_SPARSITY
                    + " sparsity, so it cannot reach a target of " + sparsity);
        }
        int count = layers.size();
        double[] d = new double[count];
        double[] n = new double[count];
        for (int l = 0; l < count; l++) {
            d[l] = outlierRatio(layers.get(l), owl.outlierThreshold());
            n[l] = layers.get(l).size();
        }
        double[] s = new double[count];
        Arrays.fill(s, sparsity);
        double minD = Arrays.stream(d).min().orElse(0);
        double maxD = Arrays.stream(d).max().orElse(0);
        double band = owl.band();
        if (maxD == minD || band == 0) {
            return new OwlTargets(s, d);
        }
        double[] offset = new double[count];
        for (int l = 0; l < count; l++) {
            offset[l] = band * (2 * (d[l] - minD) / (maxD - minD) - 1);
        }
        double lo = Math.max(0, sparsity - band);
        double hi = Math.min(sparsity + band, MAX_LAYER_SPARSITY);
        // At c = −2λ every layer clips to lo ≤ s, at c = +2λ to hi ≥ s; the mean is continuous and
        // non-decreasing in c, so bisection converges on a c where it equals s.
        double cLo = -2 * band;
        double cHi = 2 * band;
        for (int iter = 0; iter < 200; iter++) {
            double mid = 0.5 * (cLo + cHi);
            if (mid == cLo || mid == cHi) {
                break;
            }
            if (weightedMean(clipped(sparsity, offset, mid, lo, hi), n) < sparsity) {
                cLo = mid;
            } else {
                cHi = mid;
            }
        }
        return new OwlTargets(clipped(sparsity, offset, 0.5 * (cLo + cHi), lo, hi), d);
    }

    /**
     * OWL's layer outlier ratio {@code D = |{w : score(w) > M·mean(score)}| / n}: the share of the
     * layer's scores above M times their mean. For Wanda scores this is the paper's definition.
     * An empty layer or an all-zero one has D = 0. Scores must be finite and non-negative.
     */
    public static double outlierRatio(LayerScores layer, double outlierThreshold) {
        double[][] scores = layer.scores();
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            for (int j = 0; j < scores[i].length; j++) {
                double v = scores[i][j];
                if (!(v >= 0 && v < Double.POSITIVE_INFINITY)) {
                    throw new IllegalArgumentException("outlier ratio of layer " + layer.name()
                            + " needs finite non-negative scores, but score[" + i + "][" + j + "] = " + v);
                }
                sum += v;
            }
        }
        if (layer.size() == 0) {
            return 0;
        }
        double cut = outlierThreshold * (sum / layer.size());
        long outliers = 0;
        for (double[] row : scores) {
            for (double v : row) {
                outliers += v > cut ? 1 : 0;
            }
        }
        return (double) outliers / layer.size();
    }

    /** Each layer pruned to its own sparsity in its own comparison group ({@link UnstructuredMasks#keep}). */
    public static List<boolean[][]> perLayer(List<LayerScores> layers, double[] sparsities) {
        if (sparsities.length != layers.size()) {
            throw new IllegalArgumentException(sparsities.length + " sparsities for " + layers.size() + " layers");
        }
        List<boolean[][]> masks = new ArrayList<>(layers.size());
        for (int l = 0; l < sparsities.length; l++) {
            LayerScores layer = layers.get(l);
            try {
                masks.add(UnstructuredMasks.keep(layer.scores(), layer.group(), sparsities[l]));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer " + layer.name() + ": " + e.getMessage(), e);
            }
        }
        return masks;
    }

    /** Sparsity of one layer's keep mask: pruned weights / all weights; 0 when it has none. */
    public static double achievedSparsity(boolean[][] keep) {
        return achievedSparsity(Collections.singletonList(keep));
    }

    /** Overall sparsity of keep masks: pruned weights / all weights; 0 when there are none. */
    public static double achievedSparsity(List<boolean[][]> keep) {
        long total = 0;
        long pruned = 0;
        for (boolean[][] mask : keep) {
            for (boolean[] row : mask) {
                total += row.length;
                for (boolean k : row) {
                    pruned += k ? 0 : 1;
                }
            }
        }
        return total == 0 ? 0 : (double) pruned / total;
    }

    private static double[] clipped(double sparsity, double[] offset, double c, double lo, double hi) {
        double[] s = new double[offset.length];
        for (int l = 0; l < s.length; l++) {
            s[l] = Math.min(hi, Math.max(lo, sparsity - offset[l] + c));
        }
        return s;
    }

    private static double weightedMean(double[] values, double[] weights) {
        double sum = 0;
        double total = 0;
        for (int l = 0; l < values.length; l++) {
            sum += weights[l] * values[l];
            total += weights[l];
        }
        return sum / total;
    }

    private static double checkSparsity(double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("target sparsity must be in [0, 1), was " + sparsity);
        }
        return sparsity;
    }
}
