package dev.pare.common.util;

import dev.pare.common.config.ConfigError;
import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Looks up a registry entry by its configuration name, failing with the list of valid names. */
public final class Names {
    private Names() {}

    public static <E extends Enum<E>> E lookup(Class<E> type, Function<E, String> nameOf, String path, String name) {
        for (E e : type.getEnumConstants()) {
            if (nameOf.apply(e).equals(name)) {
                return e;
            }
        }
        String valid = Arrays.stream(type.getEnumConstants()).map(nameOf).collect(Collectors.joining(", "));
        throw new ConfigError(path, name, "unknown name; valid: " + valid);
    }
}
