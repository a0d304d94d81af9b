package dev.pare.jobs.io;

import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;

/**
 * A Hadoop configuration for tasks, sent as a broadcast, as Spark's own file scans send theirs. A task's closure
 * is deserialized by every task, and a session's Hadoop configuration (some 1,500 entries, about 144 KB)
 * took 17 ms to deserialize in a warm JVM and 57 ms in a cold one; a broadcast is fetched once per executor and
 * its value kept there. Making the broadcast costs the driver 25-50 ms, so reads on the driver alone take
 * {@link #onDriver}, which makes none.
 */
public final class BroadcastConf implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Broadcast<SerializableConfiguration> conf;
    private final transient Configuration local;

    private BroadcastConf(Broadcast<SerializableConfiguration> conf, Configuration local) {
        this.conf = conf;
        this.local = local;
    }

    /** {@code conf} broadcast for tasks (later changes to it are not seen). */
    public static BroadcastConf forTasks(SparkSession spark, Configuration conf) {
        return new BroadcastConf(JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(new SerializableConfiguration(conf)), null);
    }

    /** {@code conf} for reads on the driver's own threads: nothing is broadcast, and it cannot be sent to tasks. */
    public static BroadcastConf onDriver(Configuration conf) {
        return new BroadcastConf(null, conf);
    }

    /** The configuration; tasks share one copy per executor, so they must not change it. */
    public Configuration value() {
        return local != null ? local : conf.value().value();
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        if (conf == null) {
            throw new NotSerializableException("a Hadoop configuration made for reads on the driver"
                    + " (BroadcastConf.onDriver) was sent to tasks");
        }
        out.defaultWriteObject();
    }
}
