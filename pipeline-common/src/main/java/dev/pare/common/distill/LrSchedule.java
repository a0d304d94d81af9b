package dev.pare.common.distill;

import dev.pare.common.util.Names;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * The learning rate of each distillation epoch e = 0, 1, ... ({@code distill.lr-schedule}):
 * <ul>
 *   <li>{@code constant}: {@code lr};</li>
 *   <li>{@code cosine}: {@code lr · ½ · (1 + cos(π · e / E))} over E epochs (Loshchilov &amp; Hutter,
 *       "SGDR", ICLR 2017, without restarts), from lr down towards 0 in the last epoch;</li>
 *   <li>{@code step}: {@code lr · γ^⌊e / every⌋}.</li>
 * </ul>
 * Given to Adam as a per-epoch ND4J {@link MapSchedule}, which ModelSerializer saves with the
 * network, so a resumed run continues the same schedule.
 */
public enum LrSchedule {
    CONSTANT("constant"),
    COSINE("cosine"),
    STEP("step");

    private final String configName;

    LrSchedule(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** The rate of 0-based epoch {@code e} of {@code epochs}. */
    public double rate(double lr, int e, int epochs, int every, double gamma) {
        return switch (this) {
            case CONSTANT -> lr;
            case COSINE -> lr * 0.5 * (1 + Math.cos(Math.PI * e / Math.max(1, epochs)));
            case STEP -> lr * Math.pow(gamma, Math.floorDiv(e, Math.max(1, every)));
        };
    }

    /** An ND4J schedule giving {@link #rate} for epochs {@code 0 .. epochs − 1}. */
    public ISchedule schedule(double lr, int epochs, int every, double gamma) {
        Map<Integer, Double> values = new HashMap<>();
        for (int e = 0; e < Math.max(1, epochs); e++) {
            values.put(e, rate(lr, e, epochs, every, gamma));
        }
        return new MapSchedule(ScheduleType.EPOCH, values);
    }

    public static LrSchedule fromName(String path, String name) {
        return Names.lookup(LrSchedule.class, LrSchedule::configName, path, name);
    }
}
