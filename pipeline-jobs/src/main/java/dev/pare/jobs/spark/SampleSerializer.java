package dev.pare.jobs.spark;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.StreamCorruptedException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.spark.serializer.DeserializationStream;
import org.apache.spark.serializer.SerializationStream;
import org.apache.spark.serializer.Serializer;
import org.apache.spark.serializer.SerializerInstance;
import scala.reflect.ClassTag;

/**
 * The serializer of the calibration sample's shuffle: its keys ({@link CalibrationJob.RankKey}) and
 * rows ({@link CalibrationJob.Example}), and nothing else, whatever {@code spark.serializer} the
 * session uses. Each record is a tag byte and its fields; the features are one block of little-endian
 * floats. No stream header and no state across records, so serialized records can be cut apart and
 * concatenated ({@link #supportsRelocationOfSerializedObjects}), which lets Spark sort the map side's
 * records as bytes.
 *
 * <p>It replaces Spark's Kryo for this shuffle: every task that reads or writes a shuffle
 * deserializes its dependency's serializer, and a {@code KryoSerializer} then builds a new Kryo with
 * several hundred class registrations (4-25 ms each, the first one in a JVM much longer, plus the
 * just-in-time compilation of that code).
 */
public final class SampleSerializer extends Serializer implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final byte KEY = 1;
    private static final byte EXAMPLE = 2;

    @Override
    public SerializerInstance newInstance() {
        return new Instance();
    }

    @Override
    public boolean supportsRelocationOfSerializedObjects() {
        return true;
    }

    private static final class Instance extends SerializerInstance {
        @Override
        public <T> ByteBuffer serialize(T t, ClassTag<T> tag) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            serializeStream(bytes).writeObject(t, tag).close();
            return ByteBuffer.wrap(bytes.toByteArray());
        }

        @Override
        public <T> T deserialize(ByteBuffer bytes, ClassTag<T> tag) {
            byte[] copy = new byte[bytes.remaining()];
            bytes.duplicate().get(copy);
            DeserializationStream in = deserializeStream(new ByteArrayInputStream(copy));
            try {
                return in.readObject(tag);
            } finally {
                in.close();
            }
        }

        @Override
        public <T> T deserialize(ByteBuffer bytes, ClassLoader loader, ClassTag<T> tag) {
            return deserialize(bytes, tag);
        }

        @Override
        public SerializationStream serializeStream(OutputStream s) {
            return new Out(s);
        }

        @Override
        public DeserializationStream deserializeStream(InputStream s) {
            return new In(s);
        }
    }

    private static final class Out extends SerializationStream {
        private final DataOutputStream out;
        private byte[] scratch = new byte[0];

        Out(OutputStream s) {
            out = new DataOutputStream(s);
        }

        @Override
        public <T> SerializationStream writeObject(T t, ClassTag<T> tag) {
            try {
                if (t instanceof CalibrationJob.RankKey k) {
                    out.writeByte(KEY);
                    out.writeLong(k.key());
                    out.writeLong(k.id());
                    out.writeInt(k.shard());
                } else if (t instanceof CalibrationJob.Example e) {
                    float[] f = e.features();
                    out.writeByte(EXAMPLE);
                    out.writeLong(e.id());
                    out.writeInt(e.label());
                    out.writeInt(f.length);
                    if (scratch.length < 4 * f.length) {
                        scratch = new byte[4 * f.length];
                    }
                    ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(f);
                    out.write(scratch, 0, 4 * f.length);
                } else {
                    throw new IllegalArgumentException("the calibration sample's serializer writes sample keys and"
                            + " rows, not " + (t == null ? "null" : t.getClass().getName()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        @Override
        public void flush() {
            unchecked(out::flush);
        }

        @Override
        public void close() {
            unchecked(out::close);
        }
    }

    private static final class In extends DeserializationStream {
        private final DataInputStream in;
        private byte[] scratch = new byte[0];

        In(InputStream s) {
            in = new DataInputStream(s);
        }

        /**
         * The next record; at the end of the stream an {@link EOFException}, unchecked as
         * Scala throws it, which is how Spark's iterators over a stream see its end.
         */
        @Override
        @SuppressWarnings("unchecked")
        public <T> T readObject(ClassTag<T> tag) {
            try {
                int kind = in.read();
                if (kind < 0) {
                    throw new EOFException();
                }
                if (kind == KEY) {
                    return (T) key();
                }
                if (kind != EXAMPLE) {
                    throw new StreamCorruptedException("the calibration sample's shuffle data is corrupt: record tag "
                            + kind);
                }
                return (T) example();
            } catch (IOException e) {
                throw SampleSerializer.<RuntimeException>sneaky(e);
            }
        }

        private CalibrationJob.RankKey key() throws IOException {
            try {
                return new CalibrationJob.RankKey(in.readLong(), in.readLong(), in.readInt());
            } catch (EOFException e) {
                throw new StreamCorruptedException("the calibration sample's shuffle data ends inside a key");
            }
        }

        private CalibrationJob.Example example() throws IOException {
            try {
                long id = in.readLong();
                int label = in.readInt();
                int n = in.readInt();
                if (n < 0 || n > Integer.MAX_VALUE / 4) {
                    throw new StreamCorruptedException("the calibration sample's shuffle data is corrupt: "
                            + n + " features");
                }
                if (scratch.length < 4 * n) {
                    scratch = new byte[4 * n];
                }
                in.readFully(scratch, 0, 4 * n);
                float[] f = new float[n];
                ByteBuffer.wrap(scratch, 0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
                return new CalibrationJob.Example(id, f, label);
            } catch (EOFException e) {
                // Only the end before a record's tag is the stream's end; within a record the data is cut short.
                throw new StreamCorruptedException("the calibration sample's shuffle data ends inside a row");
            }
        }

        @Override
        public void close() {
            unchecked(in::close);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void unchecked(IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Throws a checked exception unchecked, as Scala code does: Spark catches {@code EOFException} by type. */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
