package dev.pare.common.sparsity;

/**
 * Gradual pruning's cubic sparsity schedule (Zhu &amp; Gupta, "To prune, or not to prune", 2017):
 * {@code s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³} for {@code t₀ ≤ t ≤ t₀ + n·Δt}, {@code s_i}
 * before {@code t₀} and {@code s_f} after. Masks are recomputed at the pruning steps
 * {@code t = t₀ + k·Δt, k = 0 … n}; the sparsity rises fast first and slowly at the end, when the
 * remaining weights matter most.
 *
 * @param initial {@code s_i}, in [0, 1)
 * @param target {@code s_f}, in [initial, 1)
 * @param start {@code t₀}, the first pruning step (optimizer steps, 0-based)
 * @param steps {@code n}, the number of pruning steps after {@code t₀} (> 0)
 * @param interval {@code Δt}, optimizer steps between pruning steps (> 0)
 */
public record CubicSchedule(double initial, double target, long start, int steps, long interval) {
    public CubicSchedule {
        if (!(initial >= 0 && initial < 1) || !(target >= initial && target < 1)) {
            throw new IllegalArgumentException("need 0 <= initial sparsity (" + initial + ") <= final sparsity ("
                    + target + ") < 1");
        }
        if (start < 0 || steps <= 0 || interval <= 0) {
            throw new IllegalArgumentException("need start >= 0, steps > 0 and interval > 0; were " + start + ", "
                    + steps + ", " + interval);
        }
    }

    /** {@code s_t}. */
    public double sparsityAt(long t) {
        if (t <= start) {
            return initial;
        }
        long end = start + steps * interval;
        if (t >= end) {
            return target;
        }
        double r = 1.0 - (double) (t - start) / (steps * (double) interval);
        return target + (initial - target) * r * r * r;
    }

    /** Whether masks are recomputed before optimizer step {@code t}. */
    public boolean isPruningStep(long t) {
        return t >= start && t <= start + steps * interval && (t - start) % interval == 0;
    }

    /** The last pruning step at or before {@code t}, or −1 when there is none yet. */
    public long lastPruningStepAtOrBefore(long t) {
        if (t < start) {
            return -1;
        }
        long k = Math.min(steps, (t - start) / interval);
        return start + k * interval;
    }
}
