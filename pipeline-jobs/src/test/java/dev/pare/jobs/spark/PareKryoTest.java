package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.common.calibration.CalibrationStatistics;
import dev.pare.common.calibration.Statistic;
import dev.pare.common.config.ConfigLoader;
import dev.pare.common.config.PareConfig;
import dev.pare.jobs.io.ExampleTable;
import dev.pare.jobs.io.Files;
import dev.pare.jobs.support.LocalSpark;
import java.io.ByteArrayOutputStream;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.Dependency;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.SparkConf;
import org.apache.spark.rdd.RDD;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag$;

/** Pare under {@code spark.serializer = KryoSerializer}: its records round-trip, and calibrate gives the same statistics. */
class PareKryoTest {
    private static final String KRYO = KryoSerializer.class.getName();

    private static SerializerInstance kryo(String registrators) {
        return new KryoSerializer(new SparkConf(false).set("spark.kryo.registrator", registrators)).newInstance();
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(SerializerInstance s, T value) {
        return (T) s.deserialize(s.serialize(value, ClassTag$.MODULE$.Any()), ClassTag$.MODULE$.Any());
    }

    @Test
    void everyRecordPareShipsRoundTripsThroughSparksKryo() {
        SerializerInstance s = kryo(Sessions.kryoRegistrators(Map.of(), new SparkConf(false)));
        CalibrationJob.Example e = new CalibrationJob.Example(-7L, new float[] {1.5f, -0f, Float.MIN_VALUE, 3e38f}, 9);
        CalibrationJob.RankKey k = new CalibrationJob.RankKey(Long.MIN_VALUE, 42L, 3);
        Tuple2<CalibrationJob.RankKey, CalibrationJob.Example> pair = roundTrip(s, new Tuple2<>(k, e));
        assertEquals(k, pair._1());
        assertEquals(e.id(), pair._2().id());
        assertEquals(e.label(), pair._2().label());
        assertArrayEquals(e.features(), pair._2().features());
        MaskingListener.Loss loss = new MaskingListener.Loss(1, 2, 3L, 0.25);
        assertEquals(loss, roundTrip(s, loss));
        INDArray params = Nd4j.create(new float[] {1, 2, 3, 4}, new long[] {2, 2}, 'c');
        OrderedAveragingMaster.WorkerResult w = roundTrip(s,
                new OrderedAveragingMaster.WorkerResult(params, Nd4j.zeros(DataType.DOUBLE, 3), 0.5));
        assertEquals(params, w.params());
        assertEquals(Nd4j.zeros(DataType.DOUBLE, 3), w.updater());
        assertEquals(0.5, w.score());
        CalibrationJob.SmallestKeys keys = new CalibrationJob.SmallestKeys(2).add(5, 1).add(-3, 9).add(5, 0);
        CalibrationJob.RankKey[] smallest = roundTrip(s, keys).sorted();
        assertEquals(List.of(new CalibrationJob.RankKey(-3, 9, 0), new CalibrationJob.RankKey(5, 0, 0)),
                List.of(smallest));

        // Without the registrator, Spark's Kryo cannot serialize a record at all (what calibrate hit).
        IllegalArgumentException failure = assertThrows(IllegalArgumentException.class, () -> roundTrip(kryo(""), k));
        assertTrue(String.valueOf(failure.getMessage()).contains("RankKey"), failure.getMessage());
    }

    @Test
    void calibrationUnderKryoEqualsCalibrationUnderJavaSerialization() throws Exception {
        byte[] teacher = java.nio.file.Files.readAllBytes(Paths.get(LocalSpark.sample("teacher-lenet300100.zip")));
        CalibrationJob.Settings settings = new CalibrationJob.Settings(784, 32,
                Set.of(Statistic.INPUT_NORMS, Statistic.GRADIENTS), 1, Long.MAX_VALUE);
        Map<String, byte[]> java = calibrate(Map.of(), teacher, settings);
        Map<String, byte[]> kryo = calibrate(Map.of("spark.serializer", KRYO), teacher, settings);
        assertEquals(java.keySet(), kryo.keySet());
        for (String name : java.keySet()) {
            assertArrayEquals(java.get(name), kryo.get(name), name);
        }
    }

    @Test
    void theSampleShuffleUsesItsOwnSerializerWhateverTheSessionSerializer() {
        SparkSession spark = LocalSpark.start();
        try {
            assertEquals("org.apache.spark.serializer.JavaSerializer",
                    spark.sparkContext().env().serializer().getClass().getName());
            assertTrue(spark.sparkContext().conf().get("spark.kryo.registrator", "").isEmpty());
            PareConfig cfg = ConfigLoader.load(null, List.of());
            var train = ExampleTable.read(spark, new Files(new Configuration()), LocalSpark.sample("train.parquet"),
                    "data.train", cfg.data());
            var sample = CalibrationJob.sample(train, 784, 300, 3, 5L);
            List<ShuffleDependency<?, ?, ?>> shuffles = new java.util.ArrayList<>();
            for (List<RDD<?>> todo = new java.util.ArrayList<>(List.of(sample.rdd())); !todo.isEmpty(); ) {
                for (Dependency<?> d : JavaConverters.seqAsJavaList(todo.remove(0).dependencies())) {
                    if (d instanceof ShuffleDependency<?, ?, ?> sd) {
                        shuffles.add(sd);
                    }
                    todo.add(d.rdd());
                }
            }
            assertEquals(1, shuffles.size());
            assertTrue(shuffles.get(0).serializer() instanceof SampleSerializer, shuffles.get(0).serializer().toString());
            assertEquals(300, sample.map(CalibrationJob.Example::id).distinct().count());
        } finally {
            LocalSpark.stop(spark);
        }
    }

    /** The statistics files of a calibration of 300 sample rows in 3 shards, in a session of its own. */
    private static Map<String, byte[]> calibrate(Map<String, String> conf, byte[] teacher,
                                                 CalibrationJob.Settings settings) throws Exception {
        SparkSession spark = Sessions.open(new PareConfig.Spark("local[2]", "pare-kryo-test", conf), null);
        try {
            assertEquals(conf.getOrDefault("spark.serializer", "org.apache.spark.serializer.JavaSerializer"),
                    spark.sparkContext().conf().get("spark.serializer", "org.apache.spark.serializer.JavaSerializer"));
            PareConfig cfg = ConfigLoader.load(null, List.of());
            var train = ExampleTable.read(spark, new Files(new Configuration()), LocalSpark.sample("train.parquet"),
                    "data.train", cfg.data());
            CalibrationStatistics stats = CalibrationJob.run(spark, CalibrationJob.sample(train, 784, 300, 3, 5L), teacher,
                    settings);
            Map<String, ByteArrayOutputStream> files = new TreeMap<>();
            stats.write(name -> files.computeIfAbsent(name, n -> new ByteArrayOutputStream()));
            Map<String, byte[]> bytes = new TreeMap<>();
            files.forEach((name, out) -> bytes.put(name, out.toByteArray()));
            return bytes;
        } finally {
            LocalSpark.stop(spark);
        }
    }
}
