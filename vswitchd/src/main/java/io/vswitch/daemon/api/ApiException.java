package io.vswitch.daemon.api;

/**
 * A request the API refuses, with the HTTP status and a one-line reason the CLI prints as is.
 * Thrown before any state is changed: a refused request changes nothing.
 */
public final class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, message);
    }
}
