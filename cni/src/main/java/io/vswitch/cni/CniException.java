package io.vswitch.cni;

/**
 * A CNI error result: a well-known code (SPEC.md section 5) and a message, printed as
 * {@code {"cniVersion", "code", "msg", "details"}} on stdout with a non-zero exit.
 */
final class CniException extends Exception {
    static final int INCOMPATIBLE_VERSION = 1;
    static final int UNSUPPORTED_FIELD = 2;
    static final int UNKNOWN_CONTAINER = 3;
    static final int INVALID_ENVIRONMENT = 4;
    static final int IO_FAILURE = 5;
    static final int DECODE_FAILURE = 6;
    static final int INVALID_CONFIG = 7;
    static final int TRY_AGAIN_LATER = 11;
    static final int NOT_AVAILABLE = 50;

    private final int code;
    private final String details;

    CniException(int code, String msg) {
        this(code, msg, null);
    }

    CniException(int code, String msg, String details) {
        super(msg);
        this.code = code;
        this.details = details;
    }

    int code() {
        return code;
    }

    String details() {
        return details;
    }
}
