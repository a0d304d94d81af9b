package dev.pare.common.distill;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.data.Minibatches;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.surgery.MaskedWeights;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The driver-side {@link EpochTrainer}: one optimizer step per minibatch of the seeded epoch order
 * ({@link Minibatches#epochOrder}, so epoch e sees the same batches whether or not epochs 1..e−1
 * ran in this process), the masks re-applied after every step, and under gradual pruning the masks
 * recomputed at the pruning steps of the {@link MaskSchedule}. The step is DL4J's {@code fit} or the
 * {@link FusedStep} ({@link Distiller#engineFor}).
 */
public final class MinibatchEpochs implements EpochTrainer {
    private static final String SHUFFLE = "distill-shuffle";
    private final MultiLayerNetwork net;
    private final ExampleArrays train;
    private final float[] teacherLogits;
    private final int numClasses;
    private final DistillSettings settings;
    private final MaskSchedule gradual;
    private final Distiller.Progress progress;
    private final DistillEngine engine;
    private final TrainingStep step;
    /** The minibatch feature arrays, reused step after step. */
    private final ForwardPass.Buffers minibatchArrays = new ForwardPass.Buffers();
    private MaskSet current;
    private MaskedWeights masked;

    private MinibatchEpochs(MultiLayerNetwork net, MaskSet masks, ExampleArrays train, float[] teacherLogits,
                            int numClasses, DistillSettings settings, MaskSchedule gradual, HiddenStates hidden,
                            Distiller.Progress progress) {
        this.net = net;
        this.train = train;
        this.teacherLogits = teacherLogits;
        this.numClasses = numClasses;
        this.settings = settings;
        this.gradual = gradual;
        this.progress = progress;
        this.current = masks;
        this.masked = new MaskedWeights(net, masks);
        masked.applyInPlace();
        this.engine = Distiller.engineFor(settings.engine(), net, hidden != null);
        this.step = engine == DistillEngine.FUSED
                ? new FusedStep(net, settings.temperature(), settings.alpha(), hidden)
                : TrainingStep.dl4j(net);
    }

    /**
     * @param teacherLogits row-major {@code [train.size(), numClasses]}, aligned with {@code train}
     * @param gradual recomputes the masks at the pruning steps of its schedule; null keeps them
     * @param hidden hidden-state targets added to the loss (fused engine only); null for none
     * @throws IllegalArgumentException when the logits do not match {@code train} and {@code numClasses}
     */
    public static EpochTrainer.Factory factory(ExampleArrays train, float[] teacherLogits, int numClasses,
                                               DistillSettings settings, MaskSchedule gradual,
                                               HiddenStates hidden, Distiller.Progress progress) {
        if (teacherLogits.length != (long) train.size() * numClasses) {
            throw new IllegalArgumentException("teacher logits hold " + teacherLogits.length + " values for "
                    + train.size() + " examples of " + numClasses + " classes");
        }
        return new EpochTrainer.Factory() {
            @Override
            public EpochTrainer bind(MultiLayerNetwork net, MaskSet masks) {
                return new MinibatchEpochs(net, masks, train, teacherLogits, numClasses, settings, gradual, hidden,
                        progress);
            }

            @Override
            public boolean masksChange() {
                return gradual != null;
            }
        };
    }

    @Override
    public Epoch train(int epoch) {
        double lossSum = 0;
        int[] order = Minibatches.epochOrder(train.size(), settings.seed(), SHUFFLE, epoch);
        int batches = Minibatches.count(train.size(), settings.batchSize());
        for (int b = 0; b < batches; b++) {
            int from = b * settings.batchSize();
            int to = Math.min(train.size(), from + settings.batchSize());
            INDArray x = minibatchArrays.features(train, order, from, to);
            INDArray y = kdLabels(order, from, to);
            long iteration = net.getIterationCount();
            if (gradual != null && gradual.schedule().isPruningStep(iteration)) {
                current = gradual.masks(net, gradual.schedule().sparsityAt(iteration));
                masked = new MaskedWeights(net, current);
                masked.applyInPlace();
            }
            lossSum += step.fit(x, y);
            masked.applyInPlace();
            progress.batch(epoch, b + 1, batches, to, lossSum / (b + 1));
        }
        return new Epoch(lossSum / batches, train.size());
    }

    @Override
    public MaskSet masks() {
        return current;
    }

    @Override
    public DistillEngine engine() {
        return engine;
    }

    /** {@code [to − from, 2C]}: one-hot labels, then the teacher's logits. */
    private INDArray kdLabels(int[] order, int from, int to) {
        int c = numClasses;
        float[] y = new float[(to - from) * 2 * c];
        for (int r = from; r < to; r++) {
            int row = order[r];
            KnowledgeDistillationLoss.labelRow(train.labels()[row], teacherLogits, row * c, c, y, (r - from) * 2 * c);
        }
        return Nd4j.create(y, new long[] {to - from, 2L * c}, 'c');
    }
}
