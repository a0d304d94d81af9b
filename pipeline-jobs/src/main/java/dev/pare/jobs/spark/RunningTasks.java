package dev.pare.jobs.spark;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/**
 * The tasks of an application that have started and not ended, from Spark's listener events. When a job fails,
 * Spark kills its other tasks and returns before they have stopped, and its status tracker does not count the
 * tasks of local mode's executor; a killed task's end event comes when the task has stopped. {@link #of} registers
 * one counter per context; {@link Sessions} does so as it opens a session, before any job.
 */
public final class RunningTasks extends SparkListener {
    private static final Map<SparkContext, RunningTasks> COUNTERS = new WeakHashMap<>();
    private final AtomicInteger running = new AtomicInteger();

    private RunningTasks() {}

    /** The counter of {@code sc}'s tasks, registered with it on first use (it counts from then on). */
    public static RunningTasks of(SparkContext sc) {
        synchronized (COUNTERS) {
            return COUNTERS.computeIfAbsent(sc, c -> {
                RunningTasks r = new RunningTasks();
                c.addSparkListener(r);
                return r;
            });
        }
    }

    @Override
    public void onTaskStart(SparkListenerTaskStart taskStart) {
        running.incrementAndGet();
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        running.decrementAndGet();
    }

    /** The tasks started and not ended, as far as the listener bus has delivered their events. */
    public int running() {
        return running.get();
    }

    /**
     * Waits until the listener bus has delivered the events posted so far and no counted task runs, at most
     * {@code timeoutMillis}; says whether none runs.
     */
    public boolean awaitNone(SparkContext sc, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try {
            // private[spark] in Scala, public to Java: returns once the events posted before the call are delivered.
            sc.listenerBus().waitUntilEmpty(Math.max(1, timeoutMillis));
        } catch (Exception e) {
            // A bus that stays busy past the timeout: the count below is as far as it got.
        }
        while (running.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
