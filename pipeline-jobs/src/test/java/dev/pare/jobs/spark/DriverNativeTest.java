package dev.pare.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DriverNativeTest {
    @Test
    void theDriversThreadsAreTheCoresSparkGivesIt() {
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores is unset: Spark's default, 1"),
                DriverNative.threads(null));
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores is unset: Spark's default, 1"),
                DriverNative.threads(" "));
        assertEquals(new DriverNative.Threads(4, "spark.driver.cores=4"), DriverNative.threads("4"));
        assertEquals(new DriverNative.Threads(8, "spark.driver.cores=8"), DriverNative.threads(" 8 "));
        // Spark refuses these itself when the session starts; the driver's threads stay at its default meanwhile.
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores='0' is not a count of cores: 1"),
                DriverNative.threads("0"));
        assertEquals(new DriverNative.Threads(1, "spark.driver.cores='two' is not a count of cores: 1"),
                DriverNative.threads("two"));
    }
}
