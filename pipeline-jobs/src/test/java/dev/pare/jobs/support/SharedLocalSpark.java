package dev.pare.jobs.support;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The base of a test class that uses one {@link LocalSpark} session for all its tests ({@link #spark}): started
 * before the class's own {@code @BeforeAll} methods run, stopped after its {@code @AfterAll} methods.
 */
public abstract class SharedLocalSpark {
    protected static SparkSession spark;

    @BeforeAll
    static void startSharedSpark() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stopSharedSpark() {
        LocalSpark.stop(spark);
        spark = null;
    }
}
