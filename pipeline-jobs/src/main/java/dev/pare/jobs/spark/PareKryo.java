package dev.pare.jobs.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Serializers for the Java records Pare's jobs ship between JVMs, for sessions that use
 * {@code spark.serializer = org.apache.spark.serializer.KryoSerializer} (a common cluster default).
 * Spark's Kryo (4.0) cannot build its field serializer for a record: it asks for field offsets, which
 * Java refuses for records, and calibrate's sample shuffle, when it used Kryo, failed with "Unable to
 * create serializer ... for class RankKey". The calibration sample's rows and keys get compact
 * serializers of their own (the sample's shuffle itself now uses {@link SampleSerializer}, whatever the
 * session's serializer); every other record (in the statistics that tasks return, distillation
 * results, losses) keeps Java serialization, as under Spark's default serializer.
 * {@link Sessions} adds this registrator and ND4J's ({@code org.nd4j.kryo.Nd4jRegistrator}, which
 * DL4J's Spark training needs under Kryo) to {@code spark.kryo.registrator}, after any the user set.
 */
public final class PareKryo implements KryoRegistrator {
    /** ND4J's registrator for INDArrays (nd4j-kryo, a dependency of DL4J's Spark module). */
    public static final String ND4J_REGISTRATOR = "org.nd4j.kryo.Nd4jRegistrator";
    static final String REGISTRATORS = "spark.kryo.registrator";

    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(CalibrationJob.Example.class, new Serializer<CalibrationJob.Example>() {
            @Override
            public void write(Kryo k, Output out, CalibrationJob.Example e) {
                out.writeLong(e.id());
                out.writeInt(e.label());
                out.writeInt(e.features().length, true);
                out.writeFloats(e.features());
            }

            @Override
            public CalibrationJob.Example read(Kryo k, Input in, Class<CalibrationJob.Example> type) {
                long id = in.readLong();
                int label = in.readInt();
                int n = in.readInt(true);
                return new CalibrationJob.Example(id, in.readFloats(n), label);
            }
        });
        kryo.register(CalibrationJob.RankKey.class, new Serializer<CalibrationJob.RankKey>() {
            @Override
            public void write(Kryo k, Output out, CalibrationJob.RankKey r) {
                out.writeLong(r.key());
                out.writeLong(r.id());
                out.writeInt(r.shard(), true);
            }

            @Override
            public CalibrationJob.RankKey read(Kryo k, Input in, Class<CalibrationJob.RankKey> type) {
                return new CalibrationJob.RankKey(in.readLong(), in.readLong(), in.readInt(true));
            }
        });
        // A plain class (arrays and ints): Kryo's field serializer; registered for sessions that require it.
        kryo.register(CalibrationJob.SmallestKeys.class);
        // Every other record (statistics' layer descriptions, distillation results, losses): Java serialization.
        kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
    }
}
