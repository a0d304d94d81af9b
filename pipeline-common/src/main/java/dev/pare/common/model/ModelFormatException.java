package dev.pare.common.model;

/** A model file that Pare cannot use: not a DL4J model, an unsupported kind, or the wrong shape. */
public final class ModelFormatException extends IllegalArgumentException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
