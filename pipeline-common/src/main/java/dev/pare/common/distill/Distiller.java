package dev.pare.common.distill;

import dev.pare.common.data.ExampleArrays;
import dev.pare.common.evaluation.ClassificationMetrics;
import dev.pare.common.model.ForwardPass;
import dev.pare.common.model.Networks;
import dev.pare.common.sparsity.MaskSet;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Offline knowledge distillation of a pruned student on a data subset, with the teacher's logits
 * precomputed by {@code score-data}. Adam with a per-epoch {@link LrSchedule} on
 * {@link KnowledgeDistillationLoss}; optional early stopping and best-epoch selection on a
 * validation split held out of the training subset ({@link ValidationSplit}). How an epoch is
 * trained is an {@link EpochTrainer}: on the driver ({@link MinibatchEpochs}, with gradual pruning,
 * {@link MaskSchedule}) or data-parallel elsewhere; either way pruned weights are exactly zero after
 * every optimizer step. After each epoch the student is evaluated on the test split and a
 * {@link Checkpoint} is saved; a resumed run continues from the latest checkpoint and ends
 * bit-identical to an uninterrupted one (an epoch's batches depend only on the seed and the epoch
 * number).
 */
public final class Distiller {
    private final DistillSettings settings;
    private final Progress progress;
    private final HiddenStates hidden;

    /**
     * Told after every optimizer step (data-parallel training: after every averaging round); for
     * progress display only (it must not change the run).
     */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (epoch, batch, batches, examples, meanLoss) -> { };

        /**
         * @param batch 1-based batch (or round) of {@code batches} in {@code epoch}
         * @param examples examples trained on so far in this epoch
         * @param meanLoss mean training loss of the epoch so far
         */
        void batch(int epoch, int batch, int batches, long examples, double meanLoss);

        /** Told by {@link Distiller} before it trains {@code epoch}. */
        default void epochStarted(int epoch) {
        }
    }

    public Distiller(DistillSettings settings) {
        this(settings, Progress.NONE);
    }

    public Distiller(DistillSettings settings, Progress progress) {
        this(settings, progress, null);
    }

    private Distiller(DistillSettings settings, Progress progress, HiddenStates hidden) {
        this.settings = settings;
        this.progress = progress;
        this.hidden = hidden;
    }

    /** This distiller with hidden-state KD added to the loss of the driver loop (needs the fused engine). */
    public Distiller withHiddenStates(HiddenStates targets) {
        return new Distiller(settings, progress, targets);
    }

    /**
     * The final student, the metrics of every epoch (resumed ones included), the epoch the student
     * comes from (the best by validation accuracy with {@code keepBest}, else the last) and whether
     * early stopping ended the run.
     */
    public record Result(MultiLayerNetwork student, List<EpochMetrics> epochs, int chosenEpoch, boolean stoppedEarly,
                         MaskSet masks, DistillEngine engine) {}

    /**
     * The engine that trains {@code student} under {@code requested}: {@code dl4j} or {@code fused},
     * never {@code auto}.
     *
     * @throws IllegalArgumentException when {@code fused} is requested for a student it cannot
     *     train, with the reason
     */
    public static DistillEngine engineFor(DistillEngine requested, MultiLayerNetwork student) {
        return engineFor(requested, student, false);
    }

    /**
     * {@link #engineFor(DistillEngine, MultiLayerNetwork)}, where {@code hiddenStates} (hidden-state
     * KD, computed by the fused engine only) makes {@code auto} mean {@code fused} and refuses {@code dl4j}.
     */
    public static DistillEngine engineFor(DistillEngine requested, MultiLayerNetwork student, boolean hiddenStates) {
        Optional<String> why = FusedStep.unsupported(student);
        if (hiddenStates) {
            if (requested == DistillEngine.DL4J) {
                throw new IllegalArgumentException("hidden-state KD is computed by the fused engine only");
            }
            if (why.isPresent()) {
                throw new IllegalArgumentException("hidden-state KD needs the fused engine, which cannot train this"
                        + " student: " + why.get());
            }
        }
        return switch (requested) {
            case DL4J -> DistillEngine.DL4J;
            case AUTO -> why.isPresent() ? DistillEngine.DL4J : DistillEngine.FUSED;
            case FUSED -> {
                if (why.isPresent()) {
                    throw new IllegalArgumentException("the fused engine cannot train this student: " + why.get());
                }
                yield DistillEngine.FUSED;
            }
        };
    }

    /** {@link #run(MultiLayerNetwork, MaskSet, ExampleArrays, float[], ExampleArrays, ExampleArrays, CheckpointStore, boolean, Consumer)} without a validation split. */
    public Result run(MultiLayerNetwork student, MaskSet masks, ExampleArrays train, float[] teacherLogits,
                      ExampleArrays test, CheckpointStore checkpoints, boolean resume,
                      Consumer<List<EpochMetrics>> onEpoch) throws IOException {
        return run(student, masks, train, teacherLogits, null, test, checkpoints, resume, onEpoch);
    }

    /** {@link #run(MultiLayerNetwork, MaskSet, ExampleArrays, float[], ExampleArrays, ExampleArrays, CheckpointStore, boolean, MaskSchedule, Consumer)} without gradual pruning. */
    public Result run(MultiLayerNetwork student, MaskSet masks, ExampleArrays train, float[] teacherLogits,
                      ExampleArrays validation, ExampleArrays test, CheckpointStore checkpoints, boolean resume,
                      Consumer<List<EpochMetrics>> onEpoch) throws IOException {
        return run(student, masks, train, teacherLogits, validation, test, checkpoints, resume, null, onEpoch);
    }

    /**
     * Distillation on the driver ({@link MinibatchEpochs}).
     *
     * @param student the pruned network (not modified)
     * @param teacherLogits row-major {@code [train.size(), numClasses]}, aligned with {@code train}
     * @param validation held-out rows of the training subset for early stopping and best-epoch
     *     selection ({@link ValidationSplit}); null or empty for none
     * @param gradual recomputes the masks at the pruning steps of its schedule; null keeps {@code masks}
     * @param onEpoch called after each epoch (and its checkpoint) with the metrics of every epoch so far,
     *     resumed ones included
     */
    public Result run(MultiLayerNetwork student, MaskSet masks, ExampleArrays train, float[] teacherLogits,
                      ExampleArrays validation, ExampleArrays test, CheckpointStore checkpoints, boolean resume,
                      MaskSchedule gradual, Consumer<List<EpochMetrics>> onEpoch) throws IOException {
        EpochTrainer.Factory epochs = MinibatchEpochs.factory(train, teacherLogits, (int) Networks.outputSize(student),
                settings, gradual, hidden, progress);
        return run(student, masks, epochs, validation, test, checkpoints, resume, onEpoch);
    }

    /**
     * The epoch loop around a training strategy: builds the training network (or restores the latest
     * checkpoint when {@code resume}), lets {@code epochs} train each epoch, then evaluates, checkpoints,
     * reports, stops early and keeps the best epoch as configured.
     *
     * @param student the pruned network (not modified)
     * @param epochs trains one epoch of the training network; see {@link EpochTrainer}
     */
    public Result run(MultiLayerNetwork student, MaskSet masks, EpochTrainer.Factory epochs, ExampleArrays validation,
                      ExampleArrays test, CheckpointStore checkpoints, boolean resume,
                      Consumer<List<EpochMetrics>> onEpoch) throws IOException {
        int numClasses = (int) Networks.outputSize(student);
        boolean validating = validation != null && validation.size() > 0;
        ILossFunction originalLoss = ((OutputLayer) outputConf(student)).getLossFn();
        MultiLayerNetwork net;
        List<EpochMetrics> history = new ArrayList<>();
        int start = 0;
        Optional<Checkpoint> latest = resume ? checkpoints.latest() : Optional.empty();
        if (latest.isPresent()) {
            net = Networks.read(latest.get().model(), "distill checkpoint of epoch " + latest.get().epoch(), true);
            history.addAll(latest.get().history());
            start = latest.get().epoch();
            if (latest.get().masks() != null) {
                masks = MaskSet.read(new java.io.ByteArrayInputStream(latest.get().masks()),
                        "distill checkpoint of epoch " + latest.get().epoch());
            }
        } else {
            net = trainingNetwork(student);
        }
        EpochTrainer trainer = epochs.bind(net, masks);
        boolean stopped = validating && shouldStop(history);
        for (int epoch = start + 1; epoch <= settings.epochs() && !stopped; epoch++) {
            // The epoch counter drives the per-epoch learning-rate schedule (and is saved with checkpoints).
            net.getLayerWiseConfigurations().setEpochCount(epoch - 1);
            long t0 = System.nanoTime();
            progress.epochStarted(epoch);
            EpochTrainer.Epoch trained = trainer.train(epoch);
            double seconds = (System.nanoTime() - t0) / 1e9;
            net.getLayerWiseConfigurations().setEpochCount(epoch);
            ClassificationMetrics eval = evaluate(net, test, numClasses, 1000);
            ClassificationMetrics val = validating ? evaluate(net, validation, numClasses, 1000) : null;
            EpochMetrics m = new EpochMetrics(epoch, trained.meanLoss(), eval.accuracy(), eval.meanLoss(), seconds,
                    trained.examples() / seconds, settings.schedule().rate(settings.learningRate(), epoch - 1,
                            settings.epochs(), settings.stepEvery(), settings.stepGamma()),
                    val == null ? null : val.accuracy(), val == null ? null : val.meanLoss());
            history.add(m);
            checkpoints.save(new Checkpoint(epoch, Networks.toBytes(net, true), history,
                    epochs.masksChange() ? maskBytes(trainer.masks()) : null));
            onEpoch.accept(List.copyOf(history));
            stopped = validating && shouldStop(history);
        }
        MaskSet current = trainer.masks();
        int chosen = history.isEmpty() ? 0 : history.get(history.size() - 1).epoch();
        if (validating && settings.keepBest() && !history.isEmpty()) {
            int best = bestEpoch(history);
            if (best != chosen) {
                Checkpoint c = checkpoints.at(best).orElseThrow(() -> new IOException(
                        "the checkpoint of the best epoch " + best + " is gone; cannot keep the best student"));
                net = Networks.read(c.model(), "distill checkpoint of epoch " + best, false);
                if (c.masks() != null) {
                    current = MaskSet.read(new java.io.ByteArrayInputStream(c.masks()), "distill checkpoint of epoch " + best);
                }
                chosen = best;
            }
        }
        boolean early = stopped && !history.isEmpty() && history.get(history.size() - 1).epoch() < settings.epochs();
        return new Result(withLoss(net, originalLoss), history, chosen, early, current, trainer.engine());
    }

    private static byte[] maskBytes(MaskSet masks) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        masks.write(out);
        return out.toByteArray();
    }

    /** The epoch with the highest validation accuracy; ties go to the earlier epoch. */
    static int bestEpoch(List<EpochMetrics> history) {
        EpochMetrics best = history.get(0);
        for (EpochMetrics m : history) {
            if (m.validationAccuracy() != null && m.validationAccuracy() > best.validationAccuracy()) {
                best = m;
            }
        }
        return best.epoch();
    }

    /** Early stopping: {@code patience} epochs have passed since the best validation accuracy. */
    private boolean shouldStop(List<EpochMetrics> history) {
        if (settings.patience() <= 0 || history.isEmpty()) {
            return false;
        }
        return history.get(history.size() - 1).epoch() - bestEpoch(history) >= settings.patience();
    }

    private static org.deeplearning4j.nn.conf.layers.Layer outputConf(MultiLayerNetwork net) {
        return net.getLayer(net.getnLayers() - 1).conf().getLayer();
    }

    /** A fresh copy of the student's configuration with the KD loss and Adam, holding its weights. */
    private MultiLayerNetwork trainingNetwork(MultiLayerNetwork student) {
        MultiLayerConfiguration conf = student.getLayerWiseConfigurations().clone();
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        for (NeuralNetConfiguration layer : conf.getConfs()) {
            if (layer.getLayer() instanceof BaseLayer base) {
                base.setIUpdater(new Adam(settings.schedule().schedule(settings.learningRate(), settings.epochs(),
                        settings.stepEvery(), settings.stepGamma())));
            }
        }
        NeuralNetConfiguration out = conf.getConf(conf.getConfs().size() - 1);
        ((OutputLayer) out.getLayer()).setLossFn(new KnowledgeDistillationLoss(settings.temperature(), settings.alpha()));
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init(student.params().dup(), false);
        return net;
    }

    /** A copy of {@code net}'s weights in a network whose output layer has {@code loss} again. */
    private static MultiLayerNetwork withLoss(MultiLayerNetwork net, ILossFunction loss) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        ((OutputLayer) conf.getConf(conf.getConfs().size() - 1).getLayer()).setLossFn(loss);
        MultiLayerNetwork copy = new MultiLayerNetwork(conf);
        copy.init(net.params().dup(), false);
        return copy;
    }

    /**
     * Accuracy and loss of {@code net} on {@code data}, in batches, on as many threads as the machine has
     * cores on ND4J's CPU backend, one on a GPU ({@link #evaluate(MultiLayerNetwork, ExampleArrays, int, int, int)}).
     */
    public static ClassificationMetrics evaluate(MultiLayerNetwork net, ExampleArrays data, int numClasses,
                                                 int batchSize) {
        // CUDA backends keep one thread: ND4J may bind a new thread to another GPU than the network's arrays.
        int threads = Nd4j.getEnvironment().isCPU() ? Runtime.getRuntime().availableProcessors() : 1;
        return evaluate(net, data, numClasses, batchSize, threads);
    }

    /**
     * Accuracy and loss of {@code net} on {@code data}, in batches of {@code batchSize}, spread over up to
     * {@code threads} threads, each with its own clone of {@code net} (a DL4J network keeps per-call state).
     * Each batch's metrics are merged in batch order: the result is the same, bit for bit, on any number
     * of threads. One thread runs {@code net} itself on the calling thread.
     */
    public static ClassificationMetrics evaluate(MultiLayerNetwork net, ExampleArrays data, int numClasses,
                                                 int batchSize, int threads) {
        if (batchSize < 1 || threads < 1) {
            throw new IllegalArgumentException("batchSize and threads must be positive, were " + batchSize + ", "
                    + threads);
        }
        int batches = (data.size() + batchSize - 1) / batchSize;
        ClassificationMetrics[] parts = new ClassificationMetrics[batches];
        int workers = Math.min(threads, batches);
        if (workers <= 1) {
            ForwardPass.Buffers buffers = new ForwardPass.Buffers();
            for (int b = 0; b < batches; b++) {
                parts[b] = evaluateBatch(net, data, numClasses, batchSize, b, buffers);
            }
        } else {
            AtomicInteger next = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
                Thread t = new Thread(r, "pare-evaluate");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    MultiLayerNetwork copy = net.clone();
                    running.add(pool.submit(() -> {
                        ForwardPass.Buffers buffers = new ForwardPass.Buffers();
                        for (int b = next.getAndIncrement(); b < batches; b = next.getAndIncrement()) {
                            parts[b] = evaluateBatch(copy, data, numClasses, batchSize, b, buffers);
                        }
                    }));
                }
                for (Future<?> f : running) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while evaluating", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } finally {
                pool.shutdownNow();
            }
        }
        ClassificationMetrics m = new ClassificationMetrics(numClasses);
        for (ClassificationMetrics part : parts) {
            m.merge(part);
        }
        return m;
    }

    private static ClassificationMetrics evaluateBatch(MultiLayerNetwork net, ExampleArrays data, int numClasses,
                                                       int batchSize, int batch, ForwardPass.Buffers buffers) {
        int from = batch * batchSize;
        int to = Math.min(data.size(), from + batchSize);
        float[] logits = ForwardPass.logitsRowMajor(net, buffers.features(data, from, to), buffers);
        ClassificationMetrics m = new ClassificationMetrics(numClasses);
        m.add(logits, java.util.Arrays.copyOfRange(data.labels(), from, to), null);
        return m;
    }
}
