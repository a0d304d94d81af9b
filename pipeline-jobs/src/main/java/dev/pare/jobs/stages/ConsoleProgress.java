package dev.pare.jobs.stages;

import dev.pare.common.distill.Distiller;
import java.io.PrintStream;

/**
 * Progress of driver-side training on the console. On a terminal, one line per epoch redrawn in
 * place (a bar, batches, examples/s, loss), at most every 200 ms; otherwise (log files, Airflow) one
 * plain line at every quarter of an epoch, so logs stay short.
 */
public final class ConsoleProgress implements Distiller.Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final int epochs;
    private final boolean terminal;
    private final String unit;
    private long epochStart;
    private long lastDraw;
    private int lastQuarter;
    private int startedEpoch = -1;

    public ConsoleProgress(PrintStream out, String label, int epochs, boolean terminal) {
        this(out, label, epochs, terminal, "batches");
    }

    /** @param unit what {@code batch} counts: "batches", or "rounds" of data-parallel training */
    public ConsoleProgress(PrintStream out, String label, int epochs, boolean terminal, String unit) {
        this.out = out;
        this.label = label;
        this.epochs = epochs;
        this.terminal = terminal;
        this.unit = unit;
    }

    @Override
    public void epochStarted(int epoch) {
        startedEpoch = epoch;
        epochStart = System.nanoTime();
        lastQuarter = 0;
    }

    /** Whether this process writes to an interactive terminal. */
    public static boolean isTerminal() {
        return System.console() != null;
    }

    @Override
    public void batch(int epoch, int batch, int batches, long examples, double meanLoss) {
        long now = System.nanoTime();
        if (batch == 1 && startedEpoch != epoch) {
            // Without epochStarted the clock starts at the first step (its time is not counted).
            epochStart = now;
            lastQuarter = 0;
        }
        double seconds = Math.max(1e-9, (now - epochStart) / 1e9);
        String text = String.format("%-12s epoch %d/%d: %d/%d %s, %.0f examples/s, loss %.4f", label, epoch, epochs,
                batch, batches, unit, examples / seconds, meanLoss);
        if (terminal) {
            if (batch == batches || now - lastDraw > 200_000_000L) {
                int filled = (int) ((long) WIDTH * batch / batches);
                out.print("\r" + text + " [" + "=".repeat(filled) + " ".repeat(WIDTH - filled) + "]");
                if (batch == batches) {
                    out.print("\r" + " ".repeat(text.length() + WIDTH + 3) + "\r");
                }
                out.flush();
                lastDraw = now;
            }
        } else {
            int quarter = (int) (4L * batch / batches);
            if (quarter > lastQuarter && quarter < 4) {
                out.println(text);
                lastQuarter = quarter;
            }
        }
    }
}
