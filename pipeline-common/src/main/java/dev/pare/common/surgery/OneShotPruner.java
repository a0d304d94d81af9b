package dev.pare.common.surgery;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.importance.ImportanceCriterion;
import dev.pare.common.model.Networks;
import dev.pare.common.model.PrunableLayer;
import dev.pare.common.sparsity.LayerMask;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.sparsity.UnstructuredMasks;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One-shot unstructured pruning with uniform per-layer sparsity: every prunable layer loses the
 * {@code round(s · n)} lowest-scoring weights of each comparison group of its criterion. Biases
 * are never pruned. The teacher is not modified; the result holds a pruned copy.
 */
public final class OneShotPruner {
    private OneShotPruner() {}

    /**
     * @param statistics calibration statistics; may be null when the criterion needs none
     */
    public static PrunedModel prune(MultiLayerNetwork teacher, CalibrationStatistics statistics,
                                    ImportanceCriterion criterion, double sparsity, boolean pruneOutputLayer) {
        if (criterion.needsCalibration() && statistics == null) {
            throw new IllegalArgumentException("the criterion needs calibration statistics; run calibrate first");
        }
        Networks.LayerSurvey survey = Networks.prunableLayers(teacher, pruneOutputLayer);
        MultiLayerNetwork student = teacher.clone();
        List<LayerMask> masks = new ArrayList<>();
        List<LayerReport> report = new ArrayList<>();
        for (PrunableLayer layer : survey.prunable()) {
            INDArray w = student.getLayer(layer.index()).getParam("W");
            double[][] weights = w.castTo(DataType.DOUBLE).toDoubleMatrix();
            CalibrationStatistics.LayerStatistics stats =
                    criterion.needsCalibration() ? statistics.layer(layer.index()) : null;
            boolean[][] keep = UnstructuredMasks.keep(criterion.scores(weights, stats), criterion.group(), sparsity);
            LayerMask mask = LayerMask.of(layer.index(), layer.name(), keep);
            masks.add(mask);
            report.add(new LayerReport(layer.index(), layer.name(), layer.nIn(), layer.nOut(), mask.size(),
                    mask.keptCount(), mask.sparsity()));
        }
        MaskSet maskSet = new MaskSet(masks);
        new MaskedWeights(student, maskSet).applyInPlace();
        return new PrunedModel(student, maskSet, report, survey.skipped());
    }
}
