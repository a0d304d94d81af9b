package dev.pare.jobs.spark;

import dev.pare.common.surgery.MaskedWeights;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * dl4j-spark's {@link ParameterAveragingTrainingMaster} with one change after each averaging round:
 * the workers' results are summed in partition order on the driver, then the driver's masks are
 * re-applied.
 *
 * <p>Why: DL4J sums the workers' parameters and updater states with {@code treeAggregate}, whose
 * last level is an {@code RDD.fold} that merges task results on the driver in the order the tasks
 * finish. Float addition is commutative but not associative, so with two workers the sum is
 * bit-identical either way, but with three or more it depends on task timing ({@code (a+b)+c} vs
 * {@code (a+c)+b}) and so would the student. {@code collect()} returns results in partition order,
 * which makes every round, and the run, bit-reproducible for any worker count, at the cost of holding
 * the workers' results (parameters and Adam state, 3 × the parameter count each) on the driver at
 * once instead of merging them as they arrive. Everything else is DL4J's {@code processResults}:
 * average, set parameters and updater state, score, advance the iteration count by the averaging
 * frequency. The averaged pruned weights are already zero (every worker's are); re-applying the masks
 * on the driver keeps that true whatever a worker returned.
 */
final class OrderedAveragingMaster extends ParameterAveragingTrainingMaster {
    /** Told after each averaging round, on the driver. */
    @FunctionalInterface
    interface RoundListener {
        void round(int round, int rounds);
    }

    private final transient MaskedWeights driverMasks;
    private final transient RoundListener onRound;

    /** @param driverMasks re-applied to the driver's network after each averaging; null: not (tests) */
    OrderedAveragingMaster(Builder builder, MaskedWeights driverMasks, RoundListener onRound) {
        super(builder);
        this.driverMasks = driverMasks;
        this.onRound = onRound;
    }

    /** What a worker returns: its parameters and updater state (null when it had no data) and last loss. */
    record WorkerResult(INDArray params, INDArray updater, double score) implements java.io.Serializable {}

    private static WorkerResult portable(ParameterAveragingTrainingResult r) {
        return new WorkerResult(r.getParameters(), r.getUpdaterState(), r.getScore());
    }

    @Override
    protected void processResults(SparkDl4jMultiLayer network, SparkComputationGraph graph,
                                  JavaRDD<ParameterAveragingTrainingResult> results, int splitNum, int totalSplits) {
        if (network == null) {
            throw new UnsupportedOperationException("only MultiLayerNetworks are trained here");
        }
        // DL4J's result class is not Serializable (DL4J only ships it inside its aggregation tuples).
        List<WorkerResult> all = results.map(OrderedAveragingMaster::portable).collect();
        INDArray params = null;
        INDArray updater = null;
        double score = 0;
        int count = 0;
        for (WorkerResult r : all) {
            if (r.params() == null) {
                continue; // a worker whose partition of this round was empty
            }
            params = params == null ? r.params() : params.addi(r.params());
            if (r.updater() != null) {
                updater = updater == null ? r.updater() : updater.addi(r.updater());
            }
            score += r.score();
            count++;
        }
        if (count > 0) {
            MultiLayerNetwork net = network.getNetwork();
            net.setParameters(params.divi(count));
            if (updater != null) {
                net.getUpdater().setStateViewArray(net, updater.divi(count), false);
            }
            network.setScore(score / count);
            if (driverMasks != null) {
                driverMasks.applyInPlace();
            }
            MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
            conf.setIterationCount(conf.getIterationCount() + getAveragingFrequency());
        }
        onRound.round(splitNum, totalSplits);
    }
}
