package dev.pare.common.calibration;

import dev.pare.common.util.Names;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The arithmetic of the calibration pass's forward and backward products
 * ({@code calibration.precision}); the statistics are summed in double either way.
 * <ul>
 *   <li>{@code float}: the teacher's own precision, as a PyTorch calibration pass runs. A given
 *       sample, shard count and batch size gives bit-identical statistics; another batching
 *       changes them by float rounding (about 1e-6 relative).</li>
 *   <li>{@code double}: about 2x the compute; statistics agree with any other batching or
 *       sharding to about 1e-15 relative.</li>
 * </ul>
 */
public enum Precision {
    FLOAT("float", DataType.FLOAT),
    DOUBLE("double", DataType.DOUBLE);

    private final String configName;
    private final DataType dataType;

    Precision(String configName, DataType dataType) {
        this.configName = configName;
        this.dataType = dataType;
    }

    public String configName() {
        return configName;
    }

    public DataType dataType() {
        return dataType;
    }

    public static Precision fromName(String path, String name) {
        return Names.lookup(Precision.class, Precision::configName, path, name);
    }
}
