package dev.pare.common.sparsity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerFilterTest {
    private static final List<String> NAMES = List.of("fc1", "fc2", "fc10", "conv1", "block.1.fc", "blockX1Yfc", "out");

    /** The names {@code filter} accepts, in the order of {@link #NAMES}. */
    private static List<String> selected(LayerFilter filter) {
        return NAMES.stream().filter(filter::accepts).toList();
    }

    @Test
    void emptyListsSelectEveryLayer() {
        assertEquals(NAMES, selected(LayerFilter.of(List.of(), List.of())));
        assertEquals(NAMES, selected(LayerFilter.all()));
        assertEquals("all layers", LayerFilter.all().describe());
    }

    @Test
    void starMatchesAnyRunAndQuestionMarkExactlyOneCharacter() {
        assertEquals(List.of("fc1", "fc2", "fc10"), selected(LayerFilter.of(List.of("fc*"), List.of())));
        assertEquals(List.of("fc1", "fc2"), selected(LayerFilter.of(List.of("fc?"), List.of())));
        assertEquals(List.of("fc1", "conv1"), selected(LayerFilter.of(List.of("*1"), List.of())));
        // * also matches the empty run: "*fc*" takes "block.1.fc", which ends in fc
        assertEquals(List.of("fc1", "fc2", "fc10", "block.1.fc", "blockX1Yfc"),
                selected(LayerFilter.of(List.of("*fc*"), List.of())));
    }

    @Test
    void patternsMatchTheWholeName() {
        // "fc" is not a prefix match for fc1, and "1" is not a substring match
        assertEquals(List.of(), selected(LayerFilter.of(List.of("fc", "1"), List.of())));
        assertEquals(List.of("out"), selected(LayerFilter.of(List.of("out"), List.of())));
    }

    @Test
    void regexMetacharactersAreLiteral() {
        // '.' as a regex would also take "blockX1Yfc"
        assertEquals(List.of("block.1.fc"), selected(LayerFilter.of(List.of("block.1.fc"), List.of())));
        assertEquals(List.of("block.1.fc"), selected(LayerFilter.of(List.of("block.?.fc"), List.of())));
        LayerFilter brackets = LayerFilter.of(List.of("fc[12]", "a+b", "(x)|y", "\\Q$^"), List.of());
        for (String name : List.of("fc[12]", "a+b", "(x)|y", "\\Q$^")) {
            assertTrue(brackets.accepts(name), name);
        }
        for (String name : List.of("fc1", "fc2", "aab", "x", "y", "(x)")) {
            assertFalse(brackets.accepts(name), name);
        }
    }

    @Test
    void excludeWinsOverInclude() {
        LayerFilter f = LayerFilter.of(List.of("fc*", "conv?"), List.of("fc1*"));
        assertEquals(List.of("fc2", "conv1"), selected(f));
        assertEquals("include [fc*, conv?] exclude [fc1*]", f.describe());

        LayerFilter firstAndLast = LayerFilter.of(List.of(), List.of("fc1", "out"));
        assertEquals(List.of("fc2", "fc10", "conv1", "block.1.fc", "blockX1Yfc"), selected(firstAndLast));
        assertEquals("all layers exclude [fc1, out]", firstAndLast.describe());
        assertEquals("include [fc?]", LayerFilter.of(List.of("fc?"), List.of()).describe());
    }

    @Test
    void matchingIsCaseSensitive() {
        assertEquals(List.of(), selected(LayerFilter.of(List.of("FC*"), List.of())));
    }

    @Test
    void emptyOrNullPatternsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerFilter.of(List.of("fc1", ""), List.of()));
        assertTrue(e.getMessage().contains("include"), e.getMessage());
        assertTrue(e.getMessage().contains("empty pattern"), e.getMessage());
        assertTrue(e.getMessage().contains("[fc1, ]"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> LayerFilter.of(List.of(), List.of("")));
        assertTrue(e.getMessage().contains("exclude"), e.getMessage());

        List<String> withNull = new ArrayList<>(Arrays.asList("fc*", null));
        e = assertThrows(IllegalArgumentException.class, () -> LayerFilter.of(List.of(), withNull));
        assertTrue(e.getMessage().contains("exclude") && e.getMessage().contains("null"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> LayerFilter.of(null, List.of()));
        assertTrue(e.getMessage().contains("include list is null"), e.getMessage());
    }
}
