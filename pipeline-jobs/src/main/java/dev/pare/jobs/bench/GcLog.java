package dev.pare.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The heap high-water marks in a JVM's GC log ({@code -Xlog:gc:file=...}, JDK unified logging):
 * every pause line ends in {@code before->after(committed)}, e.g.
 * {@code [1.234s][info][gc] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 120M->38M(512M) 4.1ms}.
 *
 * <ul>
 *   <li>{@code maxAfterFullBytes}: the largest heap after a full collection ({@code Pause Full}),
 *       which keeps exactly the live objects: the live set at the moments sampled (the memory
 *       benchmark forces one every 250 ms with {@link LiveHeapAgent}); 0 when none ran.
 *   <li>{@code maxAfterBytes}: the largest heap after any collection. A young collection leaves
 *       the old generation's garbage in place, so this is the live set plus garbage promoted since
 *       the last full or mixed collection: an upper bound of the heap the program needs.
 *   <li>{@code maxBeforeBytes}: the largest occupancy before a collection, garbage included; it
 *       follows the collector's sizing as much as the program.
 * </ul>
 * All of them only see the moments a collection ran: a JVM that never collected reports none.
 */
record GcLog(int collections, int pauses, int fullPauses, long maxBeforeBytes, long maxAfterBytes,
             long maxAfterFullBytes, long maxCommittedBytes) {
    private static final Pattern PAUSE = Pattern.compile(
            "GC\\((\\d+)\\) (Pause \\S+).*?(\\d+)([BKMG])->(\\d+)([BKMG])\\((\\d+)([BKMG])\\)");

    static GcLog parse(List<String> lines) {
        Set<String> ids = new HashSet<>();
        int pauses = 0;
        int full = 0;
        long before = 0;
        long after = 0;
        long afterFull = 0;
        long committed = 0;
        for (String line : lines) {
            Matcher m = PAUSE.matcher(line);
            if (!m.find()) {
                continue;
            }
            ids.add(m.group(1));
            pauses++;
            long a = bytes(m.group(5), m.group(6));
            before = Math.max(before, bytes(m.group(3), m.group(4)));
            after = Math.max(after, a);
            committed = Math.max(committed, bytes(m.group(7), m.group(8)));
            if (m.group(2).equals("Pause Full")) {
                full++;
                afterFull = Math.max(afterFull, a);
            }
        }
        return new GcLog(ids.size(), pauses, full, before, after, afterFull, committed);
    }

    static GcLog read(Path file) throws IOException {
        return parse(Files.readAllLines(file));
    }

    /** The high-water marks of several JVMs taken together: the largest of each (e.g. over executors). */
    static GcLog max(List<GcLog> logs) {
        GcLog m = new GcLog(0, 0, 0, 0, 0, 0, 0);
        for (GcLog l : logs) {
            m = new GcLog(m.collections + l.collections, m.pauses + l.pauses, m.fullPauses + l.fullPauses,
                    Math.max(m.maxBeforeBytes, l.maxBeforeBytes), Math.max(m.maxAfterBytes, l.maxAfterBytes),
                    Math.max(m.maxAfterFullBytes, l.maxAfterFullBytes),
                    Math.max(m.maxCommittedBytes, l.maxCommittedBytes));
        }
        return m;
    }

    private static long bytes(String value, String unit) {
        long v = Long.parseLong(value);
        return switch (unit) {
            case "K" -> v << 10;
            case "M" -> v << 20;
            case "G" -> v << 30;
            default -> v;
        };
    }
}
