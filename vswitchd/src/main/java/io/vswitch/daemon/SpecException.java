package io.vswitch.daemon;

/**
 * A network or port request that breaks a rule: {@code field} is where, as a path inside the
 * request ({@code mtu}, {@code peers[1]}, {@code ports[0]}); the config reader puts the file,
 * line and {@code networks[i].} in front, the API answers with the message and a status that
 * follows from {@link #kind}.
 */
public final class SpecException extends RuntimeException {
    /** What kind of refusal: a bad value, a clash with what exists, or something that is not there. */
    public enum Kind {
        INVALID, CONFLICT, NOT_FOUND
    }

    private final String field;
    private final Kind kind;

    public SpecException(String field, String message) {
        this(field, message, Kind.INVALID);
    }

    public SpecException(String field, String message, Kind kind) {
        super(message);
        this.field = field;
        this.kind = kind;
    }

    public static SpecException conflict(String field, String message) {
        return new SpecException(field, message, Kind.CONFLICT);
    }

    public static SpecException notFound(String field, String message) {
        return new SpecException(field, message, Kind.NOT_FOUND);
    }

    public String field() {
        return field;
    }

    public Kind kind() {
        return kind;
    }
}
