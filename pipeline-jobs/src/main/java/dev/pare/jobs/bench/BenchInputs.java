package dev.pare.jobs.bench;

import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The arguments every Fashion-MNIST benchmark main takes first: training and test tables, Spark master. */
final class BenchInputs {
    @Parameters(index = "0", paramLabel = "TRAIN_URI", description = "Training table (Parquet, Pare's layout).")
    String train;

    @Parameters(index = "1", paramLabel = "TEST_URI", description = "Test table (Parquet, Pare's layout).")
    String test;

    @Option(names = "--master", paramLabel = "URL", defaultValue = "local[2]",
            description = "Spark master (default ${DEFAULT-VALUE}).")
    String master;
}
