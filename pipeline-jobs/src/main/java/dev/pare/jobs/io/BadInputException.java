package dev.pare.jobs.io;

/** An input (file, column, row, run directory) that Pare refuses; the message names it. */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
