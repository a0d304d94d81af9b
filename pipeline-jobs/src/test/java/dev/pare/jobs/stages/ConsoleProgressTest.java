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
}
