package dev.pare.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {

    private static String run(boolean terminal, int batches) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress p = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), "distill", 3,
                terminal);
        for (int b = 1; b <= batches; b++) {
            p.batch(2, b, batches, b * 10L, 1.0 / b);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void logsGetOneLinePerQuarterOfAnEpoch() {
        List<String> lines = run(false, 8).lines().toList();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("epoch 2/3: 2/8 batches") && lines.get(0).contains("loss 0.5000"), lines.get(0));
        assertTrue(lines.get(1).contains("4/8 batches"), lines.get(1));
        assertTrue(lines.get(2).contains("6/8 batches"), lines.get(2));
        assertTrue(run(false, 2).lines().toList().size() <= 3);
    }

    @Test
    void aTerminalGetsABarRedrawnInPlaceAndClearedAtTheEnd() {
        String out = run(true, 8);
        assertTrue(out.startsWith("\r"), out);
        assertTrue(out.contains("8/8 batches") && out.contains("[" + "=".repeat(30) + "]"), out);
        assertTrue(out.endsWith("\r"), "the last draw is cleared so the epoch summary line starts clean");
        assertEquals(-1, out.indexOf('\n'), "no line breaks on a terminal");
    }

    @Test
    void roundsOfDataParallelTrainingAreCountedFromTheEpochStart() throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress p = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), "distill", 1,
                false, "rounds");
        p.epochStarted(1);
        Thread.sleep(2); // the first round took at least 2 ms
        p.batch(1, 1, 2, 500, 0.75);
        p.batch(1, 2, 2, 1000, 0.5);
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("epoch 1/1: 1/2 rounds") && lines.get(0).contains("loss 0.7500"), lines.get(0));
        // The clock started at epochStarted, not at the first report: at most 500 examples / 2 ms, not / ~0 s.
        double rate = Double.parseDouble(lines.get(0).replaceAll(".*rounds, (\\d+) examples/s.*", "$1"));
        assertTrue(rate <= 250_000, lines.get(0));
    }
}
