package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.StreamCorruptedException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.serializer.SerializationStream;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/** The calibration sample's shuffle serializer: records back bit for bit, relocatable, a cut stream refused. */
class SampleSerializerTest {
    private static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();
    private static final float NAN_PAYLOAD = Float.intBitsToFloat(0x7fc01234);

    private static CalibrationJob.Example example(long id, int label, float... features) {
        return new CalibrationJob.Example(id, features, label);
    }

    /** The bytes of {@code records} written one after the other into one stream. */
    private static byte[] write(SerializerInstance s, Object... records) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SerializationStream out = s.serializeStream(bytes);
        for (Object r : records) {
            out.writeObject(r, ANY);
        }
        out.close();
        return bytes.toByteArray();
    }

    /** The (key, value) pairs of a stream, read as Spark's shuffle reader reads them. */
    private static List<Tuple2<Object, Object>> pairs(SerializerInstance s, byte[] bytes) {
        Iterator<Tuple2<Object, Object>> it = s.deserializeStream(new ByteArrayInputStream(bytes)).asKeyValueIterator();
        List<Tuple2<Object, Object>> out = new ArrayList<>();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    private static void assertSameExample(CalibrationJob.Example want, Object got) {
        CalibrationJob.Example e = (CalibrationJob.Example) got;
        assertEquals(want.id(), e.id());
        assertEquals(want.label(), e.label());
        assertEquals(want.features().length, e.features().length);
        for (int i = 0; i < want.features().length; i++) {
            assertEquals(Float.floatToRawIntBits(want.features()[i]), Float.floatToRawIntBits(e.features()[i]),
                    "feature " + i);
        }
    }

    @Test
    void keysAndRowsComeBackBitForBitAndTheStreamEndsCleanly() {
        SerializerInstance s = new SampleSerializer().newInstance();
        CalibrationJob.RankKey k1 = new CalibrationJob.RankKey(Long.MIN_VALUE, -1L, 0);
        CalibrationJob.RankKey k2 = new CalibrationJob.RankKey(Long.MAX_VALUE, 42L, 7);
        CalibrationJob.Example e1 = example(-7L, 9, 1.5f, -0f, Float.MIN_VALUE, 3e38f, NAN_PAYLOAD,
                Float.NEGATIVE_INFINITY);
        CalibrationJob.Example e2 = example(Long.MAX_VALUE, 0);
        List<Tuple2<Object, Object>> back = pairs(s, write(s, k1, e1, k2, e2));
        assertEquals(2, back.size());
        assertEquals(k1, back.get(0)._1());
        assertSameExample(e1, back.get(0)._2());
        assertEquals(k2, back.get(1)._1());
        assertSameExample(e2, back.get(1)._2());
        // The layout: a tag byte, then key, id and shard (8 + 8 + 4 bytes); a row's tag, id, label and
        // length (8 + 4 + 4), then its floats little-endian.
        byte[] bytes = write(s, k1, e1);
        assertEquals(1 + 20 + 1 + 16 + 4 * 6, bytes.length);
        assertEquals(1.5f, ByteBuffer.wrap(bytes, 1 + 20 + 1 + 16, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getFloat());
        assertTrue(pairs(s, new byte[0]).isEmpty());
    }

    @Test
    void recordsWrittenApartReadBackInAnyConcatenatedOrder() {
        SampleSerializer serializer = new SampleSerializer();
        assertTrue(serializer.supportsRelocationOfSerializedObjects());
        SerializerInstance s = serializer.newInstance();
        List<byte[]> records = new ArrayList<>();
        List<CalibrationJob.Example> rows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            CalibrationJob.Example e = example(100 + i, i, i, -i, i * 0.5f);
            rows.add(e);
            // As Spark's serialized sort writes them: each record's key and value through one stream, flushed.
            records.add(write(s, new CalibrationJob.RankKey(i * 1000L, 100 + i, i % 2), e));
        }
        int[] order = {3, 0, 4, 2, 1};
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i : order) {
            joined.writeBytes(records.get(i));
        }
        List<Tuple2<Object, Object>> back = pairs(s, joined.toByteArray());
        assertEquals(order.length, back.size());
        for (int j = 0; j < order.length; j++) {
            assertEquals(new CalibrationJob.RankKey(order[j] * 1000L, 100 + order[j], order[j] % 2), back.get(j)._1());
            assertSameExample(rows.get(order[j]), back.get(j)._2());
        }
    }

    @Test
    void aStreamCutInsideARecordFailsInsteadOfEndingEarly() {
        SerializerInstance s = new SampleSerializer().newInstance();
        byte[] bytes = write(s, new CalibrationJob.RankKey(1, 2, 0), example(2, 1, 1f, 2f, 3f));
        for (int cut : new int[] {5, 21 + 3, bytes.length - 1}) {
            byte[] shorter = Arrays.copyOf(bytes, cut);
            StreamCorruptedException e = assertThrows(StreamCorruptedException.class, () -> pairs(s, shorter));
            assertTrue(e.getMessage().contains("ends inside"), e.getMessage());
        }
        byte[] badTag = bytes.clone();
        badTag[0] = 9;
        StreamCorruptedException e = assertThrows(StreamCorruptedException.class, () -> pairs(s, badTag));
        assertTrue(e.getMessage().contains("record tag 9"), e.getMessage());
    }

    @Test
    void anythingButSampleRecordsIsRefusedByName() {
        SerializerInstance s = new SampleSerializer().newInstance();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> write(s, "a string"));
        assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
    }

    @Test
    void singleRecordsAndTheSerializerItselfRoundTrip() throws Exception {
        ByteArrayOutputStream javaBytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(javaBytes)) {
            out.writeObject(new SampleSerializer());
        }
        SampleSerializer shipped;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(javaBytes.toByteArray()))) {
            shipped = (SampleSerializer) in.readObject();
        }
        SerializerInstance s = shipped.newInstance();
        CalibrationJob.RankKey k = new CalibrationJob.RankKey(-5, 6, 3);
        assertEquals(k, s.deserialize(s.serialize(k, ANY), ANY));
        CalibrationJob.Example e = example(8, 2, 0.25f, NAN_PAYLOAD);
        ByteBuffer bytes = s.serialize(e, ANY);
        assertSameExample(e, s.deserialize(bytes, getClass().getClassLoader(), ANY));
        assertEquals(0, bytes.position(), "deserialize leaves the buffer's position alone");
    }
}
