package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pare.jobs.support.SharedLocalSpark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.SerializableConfiguration;
import org.junit.jupiter.api.Test;

class BroadcastConfTest extends SharedLocalSpark {
    private static int javaSerializedBytes(Object o) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.size();
    }

    @Test
    void tasksReadTheSettingsFromABroadcastNotFromTheirClosure() throws IOException {
        Configuration conf = spark.sessionState().newHadoopConf();
        conf.set("pare.test.setting", "from the driver");
        BroadcastConf shared = BroadcastConf.forTasks(spark, conf);
        // In a closure, the configuration itself is every entry (well over a thousand with Hadoop's defaults).
        int inline = javaSerializedBytes(new SerializableConfiguration(conf));
        int handle = javaSerializedBytes(shared);
        assertTrue(conf.size() > 1000 && inline > 50_000, conf.size() + " entries, " + inline + " bytes");
        assertTrue(handle < 2_000, "the broadcast's handle took " + handle + " bytes");
        List<String> seen = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(1, 2, 3, 4), 4)
                .map(i -> shared.value().get("pare.test.setting") + " " + shared.value().size()).collect();
        assertEquals(4, seen.size());
        for (String s : seen) {
            assertEquals("from the driver " + conf.size(), s);
        }
    }

    @Test
    void aConfigurationForTheDriversOwnReadsIsNotBroadcastAndRefusesToTravel() {
        Configuration conf = new Configuration(false);
        conf.set("pare.test.setting", "local");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        long before = jsc.broadcast(1).id();
        BroadcastConf local = BroadcastConf.onDriver(conf);
        assertEquals(before + 1, jsc.broadcast(2).id(), "no broadcast between the two");
        assertEquals(before + 2, jsc.broadcast(3).id(), "broadcast ids count up by one");
        assertEquals("local", local.value().get("pare.test.setting"));
        IOException e = assertThrows(IOException.class, () -> javaSerializedBytes(local));
        assertTrue(e.getMessage().contains("BroadcastConf.onDriver"), e.getMessage());
    }
}
