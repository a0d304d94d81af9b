package dev.pare.common.surgery;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.CalibrationStatistics.LayerStatistics;
import dev.pare.common.calibration.CosineSimilaritySums;
import dev.pare.common.importance.Criteria;
import dev.pare.common.importance.ImportanceCriterion;
import dev.pare.common.importance.UnitImportance;
import dev.pare.common.importance.WandaCriterion;
import dev.pare.common.model.LayerWeights;
import dev.pare.common.model.Networks;
import dev.pare.common.model.PrunableLayer;
import dev.pare.common.sparsity.ComparisonGroup;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.sparsity.NmMasks;
import dev.pare.common.sparsity.SparsityAllocation;
import dev.pare.common.sparsity.SparsityPattern;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * One-shot pruning of a teacher by {@link PruneSettings}. The teacher is not modified; the result
 * holds a pruned copy.
 * <ul>
 *   <li>unstructured: per layer, the lowest-scoring weights of each comparison group go, at the
 *       sparsity the allocation gives the layer (uniform, global threshold, or outlier-weighted
 *       with outlier ratios of the Wanda scores {@code |W|·||X||}, as in OWL); sparsegpt picks its
 *       masks while reconstructing the remaining weights;</li>
 *   <li>n-of-m: every group of m consecutive inputs of each output keeps its n best weights;
 *       layers whose input width is not a multiple of m are skipped and reported;</li>
 *   <li>structured: per hidden layer, {@code round(s · units)} lowest-importance neurons or filters
 *       (at least one unit stays) are removed physically with {@link StructuredSurgery};</li>
 *   <li>layers: the {@code removeLayers} shape-preserving layers of lowest block influence go.</li>
 * </ul>
 * Biases are never masked. Masks exist for the shape-keeping patterns only; ties break by index.
 */
public final class OneShotPruner {
    private OneShotPruner() {}

    /** Uniform unstructured pruning (the first version's behaviour). */
    public static PrunedModel prune(MultiLayerNetwork teacher, CalibrationStatistics statistics,
                                    ImportanceCriterion criterion, double sparsity, boolean pruneOutputLayer) {
        Criteria c = Arrays.stream(Criteria.values()).filter(x -> x.criterion() != null && x.criterion().getClass() == criterion.getClass()).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("not a registered criterion: " + criterion));
        return prune(teacher, statistics, PruneSettings.unstructured(c, sparsity, pruneOutputLayer));
    }

    /**
     * @param statistics calibration statistics; may be null when {@link PruneSettings#needsCalibration()} is false
     */
    public static PrunedModel prune(MultiLayerNetwork teacher, CalibrationStatistics statistics, PruneSettings s) {
        if (s.needsCalibration() && statistics == null) {
            throw new IllegalArgumentException(s.criterion().configName() + " with " + s.allocation().configName()
                    + " allocation needs calibration statistics; run calibrate first");
        }
        if (statistics != null) {
            for (var needed : s.criterion().needs()) {
                if (!statistics.computed().contains(needed)) {
                    throw new IllegalArgumentException(s.criterion().configName() + " needs " + needed
                            + " calibration statistics, which this calibration did not compute; rerun calibrate");
                }
            }
        }
        if (!s.criterion().supports(s.pattern())) {
            throw new IllegalArgumentException("criterion " + s.criterion().configName() + " does not support pattern "
                    + s.pattern().configName() + "; criteria for it: " + Criteria.supporting(s.pattern()));
        }
        if (s.allocation() != SparsityAllocation.Method.UNIFORM && s.pattern() != SparsityPattern.UNSTRUCTURED
                || s.allocation() == SparsityAllocation.Method.GLOBAL
                && (s.criterion().criterion() == null || s.criterion().criterion().group() != ComparisonGroup.LAYER)) {
            throw new IllegalArgumentException(s.allocation().configName() + " allocation does not apply to "
                    + s.criterion().configName() + " with pattern " + s.pattern().configName());
        }
        boolean structural = s.pattern() == SparsityPattern.STRUCTURED || s.pattern() == SparsityPattern.LAYERS;
        Networks.LayerSurvey survey = Networks.prunableLayers(teacher, s.pruneOutputLayer() || structural);
        List<String> skipped = new ArrayList<>(survey.skipped());
        List<PrunableLayer> layers = new ArrayList<>();
        for (PrunableLayer p : survey.prunable()) {
            if (structural && p.output()) {
                skipped.add(p.name() + " (output layer: its units are the classes, so " + s.pattern().configName()
                        + " pruning never removes them)");
            } else if (!s.filter().accepts(p.name())) {
                skipped.add(p.name() + " (not selected by prune.include-layers / exclude-layers: " + s.filter().describe() + ")");
            } else if (s.pattern() == SparsityPattern.N_OF_M && !NmMasks.applicable(p.nIn(), s.m())) {
                skipped.add(p.name() + " (input width " + p.nIn() + " is not a multiple of m = " + s.m() + ")");
            } else {
                layers.add(p);
            }
        }
        return switch (s.pattern()) {
            case UNSTRUCTURED, N_OF_M -> masked(teacher, statistics, s, layers, skipped);
            case STRUCTURED -> structured(teacher, statistics, s, layers, skipped);
            case LAYERS -> removeLayers(teacher, statistics, s, layers, skipped);
        };
    }

    private static LayerStatistics stats(CalibrationStatistics statistics, PrunableLayer p) {
        return statistics == null ? null : statistics.layer(p.index());
    }

    private static PrunedModel masked(MultiLayerNetwork teacher, CalibrationStatistics statistics, PruneSettings s,
                                      List<PrunableLayer> layers, List<String> skipped) {
        MultiLayerNetwork student = teacher.clone();
        List<double[][]> weights = new ArrayList<>();
        for (PrunableLayer p : layers) {
            weights.add(LayerWeights.matrix(student.getLayer(p.index()), p));
        }
        // Per-layer targets: the allocation's, from the criterion's scores (or Wanda's for OWL).
        double[] targets = new double[layers.size()];
        Arrays.fill(targets, s.sparsity());
        double[] outlierRatios = new double[layers.size()];
        Arrays.fill(outlierRatios, Double.NaN);
        List<boolean[][]> keep = null;
        ImportanceCriterion criterion = s.criterion().criterion();
        if (s.pattern() == SparsityPattern.UNSTRUCTURED) {
            if (s.allocation() == SparsityAllocation.Method.OUTLIER_WEIGHTED) {
                WandaCriterion wanda = new WandaCriterion();
                List<SparsityAllocation.LayerScores> w = new ArrayList<>();
                for (int l = 0; l < layers.size(); l++) {
                    w.add(new SparsityAllocation.LayerScores(layers.get(l).name(),
                            wanda.scores(weights.get(l), stats(statistics, layers.get(l))), ComparisonGroup.OUTPUT_NEURON));
                }
                SparsityAllocation.OwlTargets owl = SparsityAllocation.outlierWeighted(w, s.sparsity(), s.owl());
                targets = owl.sparsities();
                outlierRatios = owl.outlierRatios();
            }
            if (criterion != null) {
                List<SparsityAllocation.LayerScores> scored = new ArrayList<>();
                for (int l = 0; l < layers.size(); l++) {
                    scored.add(new SparsityAllocation.LayerScores(layers.get(l).name(),
                            criterion.scores(weights.get(l), stats(statistics, layers.get(l))), criterion.group()));
                }
                keep = s.allocation() == SparsityAllocation.Method.GLOBAL
                        ? SparsityAllocation.global(scored, s.sparsity())
                        : SparsityAllocation.perLayer(scored, targets);
            }
        } else if (criterion != null) {
            keep = new ArrayList<>();
            for (int l = 0; l < layers.size(); l++) {
                keep.add(NmMasks.keep(criterion.scores(weights.get(l), stats(statistics, layers.get(l))), s.n(), s.m()));
            }
        }
        if (keep == null) {
            // SparseGPT: masks chosen during reconstruction; the reconstructed weights replace the teacher's.
            keep = new ArrayList<>();
            for (int l = 0; l < layers.size(); l++) {
                PrunableLayer p = layers.get(l);
                SparseGpt.Pattern pattern = s.pattern() == SparsityPattern.N_OF_M
                        ? SparseGpt.Pattern.nOfM(s.n(), s.m()) : SparseGpt.Pattern.unstructured(targets[l]);
                SparseGpt.Result r;
                try {
                    r = SparseGpt.prune(weights.get(l), stats(statistics, p).gram().hessian(), pattern,
                            s.sparseGptDamping(), s.sparseGptBlockSize());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("layer " + p.name() + ": " + e.getMessage(), e);
                }
                LayerWeights.setMatrixInPlace(student.getLayer(p.index()), p, r.weights());
                keep.add(r.keep());
            }
        }
        List<LayerMask> masks = new ArrayList<>();
        List<LayerReport> report = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            PrunableLayer p = layers.get(l);
            LayerMask mask = LayerMask.of(p.index(), p.name(), keep.get(l));
            masks.add(mask);
            double target = s.pattern() == SparsityPattern.N_OF_M ? 1.0 - (double) s.n() / s.m()
                    : s.allocation() == SparsityAllocation.Method.GLOBAL ? s.sparsity() : targets[l];
            report.add(LayerReport.masked(p.index(), p.name(), p.nIn(), p.nOut(), mask.keptCount(), target,
                    outlierRatios[l]));
        }
        MaskSet maskSet = new MaskSet(masks);
        new MaskedWeights(student, maskSet).applyInPlace();
        return new PrunedModel(student, maskSet, report, skipped);
    }

    private static PrunedModel structured(MultiLayerNetwork teacher, CalibrationStatistics statistics, PruneSettings s,
                                          List<PrunableLayer> layers, List<String> skipped) {
        UnitImportance importance = s.criterion().unitImportance();
        Map<Integer, int[]> kept = new LinkedHashMap<>();
        Map<Integer, PrunableLayer> byIndex = new LinkedHashMap<>();
        for (PrunableLayer p : layers) {
            if (p.output()) {
                continue;
            }
            double[] scores = importance.scores(LayerWeights.matrix(teacher.getLayer(p.index()), p), stats(statistics, p));
            int remove = Math.min((int) Math.round(s.sparsity() * p.nOut()), (int) p.nOut() - 1);
            kept.put(p.index(), keptUnits(scores, remove));
            byIndex.put(p.index(), p);
        }
        MultiLayerNetwork student = StructuredSurgery.removeUnits(teacher, kept);
        Map<Integer, PrunableLayer> after = new LinkedHashMap<>();
        for (PrunableLayer p : Networks.prunableLayers(student, true).prunable()) {
            after.put(p.index(), p);
        }
        List<LayerReport> report = new ArrayList<>();
        for (PrunableLayer before : Networks.prunableLayers(teacher, true).prunable()) {
            PrunableLayer now = after.get(before.index());
            if (byIndex.containsKey(before.index()) || now.weightCount() != before.weightCount()) {
                double target = byIndex.containsKey(before.index()) ? s.sparsity() : 0;
                report.add(new LayerReport(before.index(), before.name(), now.nIn(), now.nOut(), before.weightCount(),
                        now.weightCount(), 1.0 - (double) now.weightCount() / before.weightCount(), target, Double.NaN,
                        before.nOut()));
            }
        }
        return new PrunedModel(student, new MaskSet(List.of()), report, skipped, kept);
    }

    /** Sorted indices of the units that stay when the {@code remove} lowest scores go (ties: lower index first). */
    static int[] keptUnits(double[] scores, int remove) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            if (Double.isNaN(scores[i])) {
                throw new IllegalArgumentException("unit importance " + i + " is NaN");
            }
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> scores[i]));
        TreeSet<Integer> keep = new TreeSet<>();
        for (int k = remove; k < order.length; k++) {
            keep.add(order[k]);
        }
        return keep.stream().mapToInt(Integer::intValue).toArray();
    }

    private static PrunedModel removeLayers(MultiLayerNetwork teacher, CalibrationStatistics statistics,
                                            PruneSettings s, List<PrunableLayer> layers, List<String> skipped) {
        List<PrunableLayer> candidates = new ArrayList<>();
        for (PrunableLayer p : layers) {
            CosineSimilaritySums cos = statistics.layer(p.index()).cosine();
            if (!p.output() && cos != null && cos.count() > 0) {
                candidates.add(p);
            }
        }
        if (candidates.size() < s.removeLayers()) {
            throw new IllegalArgumentException("prune.remove-layers = " + s.removeLayers() + " but only "
                    + candidates.size() + " layer(s) keep their input shape and can go"
                    + (candidates.isEmpty() ? "" : ": " + candidates.stream().map(PrunableLayer::name).toList()));
        }
        candidates.sort(Comparator.comparingDouble((PrunableLayer p) -> statistics.layer(p.index()).cosine().blockInfluence())
                .thenComparingInt(PrunableLayer::index));
        Set<Integer> removed = new TreeSet<>();
        List<LayerReport> report = new ArrayList<>();
        for (PrunableLayer p : candidates.subList(0, s.removeLayers())) {
            removed.add(p.index());
            report.add(new LayerReport(p.index(), p.name(), 0, 0, p.weightCount(), 0, 1.0,
                    1.0, Double.NaN, p.nOut()));
        }
        MultiLayerNetwork student = StructuredSurgery.removeLayers(teacher, removed);
        return new PrunedModel(student, new MaskSet(List.of()), report, skipped);
    }
}
