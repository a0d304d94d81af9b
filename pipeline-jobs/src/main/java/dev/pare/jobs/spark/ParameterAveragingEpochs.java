package dev.pare.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import dev.pare.common.distill.DistillEngine;
import dev.pare.common.distill.DistillSettings;
import dev.pare.common.distill.Distiller;
import dev.pare.common.distill.EpochTrainer;
import dev.pare.common.sparsity.MaskSet;
import dev.pare.common.surgery.MaskedWeights;
import dev.pare.common.util.Seeds;
import dev.pare.jobs.io.Scans;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Data-parallel distillation epochs with dl4j-spark's parameter averaging
 * ({@link SparkDl4jMultiLayer} + {@link ParameterAveragingTrainingMaster}); the {@link EpochTrainer}
 * that {@code distill.distributed.enabled} plugs into {@link Distiller}'s epoch loop.
 *
 * <p>The training rows {@code (id, features, label, teacher logits)} are hash-partitioned by id into
 * one shard per worker once and cached on the executors. Epoch e: each shard is sorted by
 * {@code xxhash64(id, seed(e))} (a per-epoch shuffle that needs no data movement) and cut into KD
 * minibatches on the executors ({@link KdMinibatches}); DL4J splits the minibatches into rounds of
 * {@code averagingFrequency} per worker (its seeded {@code balancedRandomSplit}, seed derived from
 * (seed, e)); in each round every worker starts from the driver's parameters and Adam state, trains
 * its minibatches with DL4J's {@code fit} ({@link MaskingListener} re-zeroes the pruned weights after
 * every step), and the driver averages parameters and Adam state in partition order and re-applies
 * the masks ({@link OrderedAveragingMaster}). No repartitioning inside DL4J, no prefetch thread, no
 * export to disk.
 *
 * <p>Reproducibility: an epoch depends only on the network it starts from, the seed, the epoch
 * number and the worker count, so the same inputs give a bit-identical student and a run resumed
 * from an epoch checkpoint ends as an uninterrupted one. A different worker count gives a different
 * (equally valid) student.
 */
public final class ParameterAveragingEpochs implements EpochTrainer.Factory, AutoCloseable {
    private static final String SHUFFLE = "distill-distributed-shuffle";
    private static final String SPLIT = "distill-distributed-split";
    private final JavaSparkContext jsc;
    private final Dataset<Row> shards;
    private final long examples;
    private final int workers;
    private final int averagingFrequency;
    private final int width;
    private final int classes;
    private final DistillSettings settings;
    private final Distiller.Progress progress;
    private boolean reapplyOnDriver = true;

    private ParameterAveragingEpochs(JavaSparkContext jsc, Dataset<Row> shards, long examples, int workers,
                                     int averagingFrequency, int width, int classes, DistillSettings settings,
                                     Distiller.Progress progress) {
        this.jsc = jsc;
        this.shards = shards;
        this.examples = examples;
        this.workers = workers;
        this.averagingFrequency = averagingFrequency;
        this.width = width;
        this.classes = classes;
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * Shards and caches the training rows; {@link #close()} releases them.
     *
     * @param rows columns {@code id} (long), features (array&lt;float&gt; of {@code width}), label (int)
     *     and the teacher's logits (array&lt;float&gt; of {@code classes}), in that order
     * @param workers model replicas trained in parallel; 0 = Spark's default parallelism
     */
    public static ParameterAveragingEpochs prepare(SparkSession spark, Dataset<Row> rows, int workers,
                                                   int averagingFrequency, int width, int classes,
                                                   DistillSettings settings, Distiller.Progress progress) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int n = workers > 0 ? workers : jsc.defaultParallelism();
        String id = rows.columns()[0];
        Dataset<Row> shards = rows.repartition(n, col(id)).persist(StorageLevel.MEMORY_AND_DISK());
        long count = Scans.planned(spark, width, shards::count);
        return new ParameterAveragingEpochs(jsc, shards, count, n, averagingFrequency, width, classes, settings,
                progress);
    }

    /** Training examples per epoch. */
    public long examples() {
        return examples;
    }

    /** Model replicas trained in parallel. */
    public int workers() {
        return workers;
    }

    /**
     * For tests: the driver does not re-apply the masks after averaging, so only the workers'
     * {@link MaskingListener} keeps the pruned weights at zero.
     */
    ParameterAveragingEpochs withoutDriverMasks() {
        reapplyOnDriver = false;
        return this;
    }

    @Override
    public EpochTrainer bind(MultiLayerNetwork net, MaskSet masks) {
        return new Bound(net, masks);
    }

    @Override
    public void close() {
        shards.unpersist(false);
    }

    private final class Bound implements EpochTrainer {
        private final MultiLayerNetwork net;
        private final MaskSet masks;
        private final byte[] maskBytes;
        private final MaskedWeights driverMasks;

        Bound(MultiLayerNetwork net, MaskSet masks) {
            this.net = net;
            this.masks = masks;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                masks.write(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            this.maskBytes = out.toByteArray();
            this.driverMasks = reapplyOnDriver ? new MaskedWeights(net, masks) : null;
            if (this.driverMasks != null) {
                this.driverMasks.applyInPlace();
            }
        }

        @Override
        public Epoch train(int epoch) {
            String id = shards.columns()[0];
            long salt = Seeds.derive(settings.seed(), SHUFFLE, epoch);
            // Sorting within partitions keeps the shards where they are cached: a shuffle without a shuffle.
            // Deserialized cache: DL4J's split of an epoch into rounds reads every cached minibatch of the
            // shard in every round and keeps 1/rounds of them, which serialized storage would turn into
            // deserializing the whole shard each round. (The minibatches' ND4J arrays are off-heap.)
            JavaRDD<DataSet> minibatches = shards.sortWithinPartitions(xxhash64(col(id), lit(salt)), col(id))
                    .toJavaRDD()
                    .mapPartitions(new KdMinibatches(settings.batchSize(), width, classes))
                    .persist(StorageLevel.MEMORY_ONLY());
            CollectionAccumulator<MaskingListener.Loss> losses = jsc.sc().collectionAccumulator("distill losses");
            ParameterAveragingTrainingMaster.Builder b = new ParameterAveragingTrainingMaster.Builder(workers,
                    settings.batchSize())
                    .batchSizePerWorker(settings.batchSize())
                    .averagingFrequency(averagingFrequency)
                    .workerPrefetchNumBatches(0)
                    .saveUpdater(true)
                    .rngSeed(Seeds.derive(settings.seed(), SPLIT, epoch))
                    .repartionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .storageLevel(null);
            OrderedAveragingMaster master = new OrderedAveragingMaster(b, driverMasks, (round, rounds) -> {
                progress.batch(epoch, round, rounds, examples * round / rounds, meanLoss(losses.value()));
            });
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(jsc, net, master);
            spark.setListeners(List.of(new MaskingListener(maskBytes, losses)));
            try {
                // Tasks bind their thread to their GPU (if any) before DL4J deserializes data and network.
                spark.fit(minibatches.mapPartitions(it -> {
                    GpuBinding.bindTask();
                    return it;
                }));
            } finally {
                minibatches.unpersist(false);
            }
            if (driverMasks != null) {
                driverMasks.applyInPlace();
            }
            return new Epoch(meanLoss(losses.value()), examples);
        }

        @Override
        public MaskSet masks() {
            return masks;
        }

        @Override
        public DistillEngine engine() {
            return DistillEngine.DL4J;
        }
    }

    /**
     * The mean of the minibatch losses, summed in (stage, partition, iteration) order so the result
     * does not depend on when tasks finished; a re-executed task's duplicate entries count once.
     */
    static double meanLoss(List<MaskingListener.Loss> entries) {
        TreeMap<MaskingListener.Loss, Double> unique = new TreeMap<>(Comparator
                .comparingInt(MaskingListener.Loss::stage)
                .thenComparingInt(MaskingListener.Loss::partition)
                .thenComparingLong(MaskingListener.Loss::iteration));
        for (MaskingListener.Loss l : entries) {
            unique.putIfAbsent(l, l.value());
        }
        double sum = 0;
        for (double v : unique.values()) {
            sum += v;
        }
        return unique.isEmpty() ? Double.NaN : sum / unique.size();
    }
}
