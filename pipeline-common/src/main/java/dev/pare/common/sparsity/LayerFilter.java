package dev.pare.common.sparsity;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which layers are pruned, by name: a layer is selected when (the include list is empty or some
 * include pattern matches) and no exclude pattern matches. Exclusion wins over inclusion.
 *
 * <p>Patterns are globs matched against the whole layer name, case-sensitively: {@code *} is any
 * run of characters (including none), {@code ?} exactly one character, everything else literal
 * ({@code "block.1.fc"} matches only itself; {@code "fc[1]"} is not a character class). Empty
 * patterns are refused: an empty string most likely comes from a config typo and would match
 * nothing silently.
 */
public final class LayerFilter {
    private static final LayerFilter ALL = new LayerFilter(List.of(), List.of());

    private final List<String> include;
    private final List<String> exclude;
    private final List<Pattern> includeRegex;
    private final List<Pattern> excludeRegex;

    private LayerFilter(List<String> include, List<String> exclude) {
        this.include = List.copyOf(include);
        this.exclude = List.copyOf(exclude);
        this.includeRegex = compile(this.include);
        this.excludeRegex = compile(this.exclude);
    }

    /**
     * @param include glob patterns; empty selects every layer not excluded
     * @param exclude glob patterns of layers never selected
     */
    public static LayerFilter of(List<String> include, List<String> exclude) {
        if (include == null || exclude == null) {
            throw new IllegalArgumentException("layer filter " + (include == null ? "include" : "exclude")
                    + " list is null; use an empty list");
        }
        for (String p : include) {
            checkPattern("include", include, p);
        }
        for (String p : exclude) {
            checkPattern("exclude", exclude, p);
        }
        return new LayerFilter(include, exclude);
    }

    /** Selects every layer. */
    public static LayerFilter all() {
        return ALL;
    }

    public boolean accepts(String layerName) {
        return (includeRegex.isEmpty() || matchesAny(includeRegex, layerName)) && !matchesAny(excludeRegex, layerName);
    }

    public List<String> include() {
        return include;
    }

    public List<String> exclude() {
        return exclude;
    }

    /** For reports, e.g. {@code all layers}, {@code include [fc*] exclude [fc3]}. */
    public String describe() {
        if (include.isEmpty() && exclude.isEmpty()) {
            return "all layers";
        }
        String in = include.isEmpty() ? "all layers" : "include " + include;
        return exclude.isEmpty() ? in : in + " exclude " + exclude;
    }

    @Override
    public String toString() {
        return "LayerFilter(" + describe() + ")";
    }

    /** The whole-name regex of a glob: {@code *} → {@code .*}, {@code ?} → {@code .}, the rest quoted. */
    static Pattern globToRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (int k = 0; k < glob.length(); k++) {
            char c = glob.charAt(k);
            if (c == '*' || c == '?') {
                if (!literal.isEmpty()) {
                    regex.append(Pattern.quote(literal.toString()));
                    literal.setLength(0);
                }
                regex.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        if (!literal.isEmpty()) {
            regex.append(Pattern.quote(literal.toString()));
        }
        // DOTALL: a layer name with a line break is odd but still one name, and * must cover it.
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    private static void checkPattern(String list, List<String> patterns, String p) {
        if (p == null || p.isEmpty()) {
            throw new IllegalArgumentException("layer filter " + list + " patterns " + patterns + " contain "
                    + (p == null ? "null" : "an empty pattern") + "; use \"*\" to match every layer");
        }
    }

    private static List<Pattern> compile(List<String> globs) {
        List<Pattern> out = new ArrayList<>(globs.size());
        for (String g : globs) {
            out.add(globToRegex(g));
        }
        return List.copyOf(out);
    }

    private static boolean matchesAny(List<Pattern> patterns, String name) {
        for (Pattern p : patterns) {
            if (p.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }
}
