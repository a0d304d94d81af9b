package dev.pare.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PareCliTest {
    @Test
    void commandsWhoseDriverReadsNetworksLoadNd4jAhead() {
        Map<String, Boolean> expected = new TreeMap<>(Map.ofEntries(
                Map.entry("import-idx", false), Map.entry("train-teacher", true), Map.entry("calibrate", true),
                Map.entry("score-data", true), Map.entry("select-data", false), Map.entry("prune", true),
                Map.entry("distill", true), Map.entry("evaluate", true), Map.entry("report", true),
                Map.entry("run", true), Map.entry("help", false)));
        // Every command of the CLI, each classified as expected.
        Map<String, Boolean> actual = new TreeMap<>();
        for (String command : PareCli.commandLine().getSubcommands().keySet()) {
            actual.put(command, PareCli.networksOnDriver(new String[] {command, "--config", "x.conf"}));
        }
        assertEquals(expected, actual);
        assertFalse(PareCli.networksOnDriver(new String[0]));
        assertFalse(PareCli.networksOnDriver(new String[] {"--help"}));
    }
}
