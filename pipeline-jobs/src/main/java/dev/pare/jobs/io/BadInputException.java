package dev.pare.jobs.io;

/** An input (file, column, row, run directory) that Pare refuses; the message names it. */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The same problem with the config key or option it came from in front, e.g. {@code data.train: ...}. */
    public BadInputException in(String role) {
        return new BadInputException(role + ": " + getMessage(), this);
    }
}
