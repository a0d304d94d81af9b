package dev.pare.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        BroadcastConf shared = new BroadcastConf(spark, conf);
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
}
