package org.mtcp.samples.http;

/**
 * A request the server cannot serve from its head alone: answered with {@link #status()} and the
 * connection closed, since where the next request would start is no longer certain.
 */
final class BadRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;

    /**
     * @param status  the error status to answer with (400, 413, 431, 501, 505)
     * @param message what was wrong
     */
    BadRequestException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** @return the error status to answer with */
    int status() {
        return status;
    }
}
