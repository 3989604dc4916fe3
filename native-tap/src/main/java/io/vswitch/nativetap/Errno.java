package io.vswitch.nativetap;

/**
 * The errno values the native calls here can fail with, by name, with what an operator should
 * do about the common ones. Numbers are Linux x86-64's (asm-generic/errno-base.h, errno.h).
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int ERANGE = 34;
    public static final int EBADFD = 77;
    public static final int EMSGSIZE = 90;
    public static final int EOPNOTSUPP = 95;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ENOBUFS = 105;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;

    private Errno() {
    }

    /** The symbolic name, such as {@code "EBUSY"}, or {@code "errno 123"} for one not listed. */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EFAULT -> "EFAULT";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case ENOTTY -> "ENOTTY";
            case ENOSPC -> "ENOSPC";
            case ERANGE -> "ERANGE";
            case EBADFD -> "EBADFD";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EADDRINUSE -> "EADDRINUSE";
            case EADDRNOTAVAIL -> "EADDRNOTAVAIL";
            case EMSGSIZE -> "EMSGSIZE";
            case ENETUNREACH -> "ENETUNREACH";
            case ENOBUFS -> "ENOBUFS";
            case ENETDOWN -> "ENETDOWN";
            case ECONNREFUSED -> "ECONNREFUSED";
            case EHOSTUNREACH -> "EHOSTUNREACH";
            default -> "errno " + errno;
        };
    }

    /** What the error usually means for the calls made here, in words an operator can act on. */
    public static String meaning(int errno) {
        return switch (errno) {
            case EPERM, EACCES -> "permission denied: needs root or CAP_NET_ADMIN";
            case EBUSY -> "device busy: held by another process";
            case ENOENT -> "no such file or device";
            case ENODEV, ENXIO -> "no such device";
            case EINVAL -> "invalid argument";
            case EEXIST -> "already exists";
            case EBADFD -> "device gone (its namespace was deleted or it was removed)";
            case EIO -> "input/output error";
            case ENOMEM -> "out of memory";
            case ENOTTY -> "not supported by this device";
            case EOPNOTSUPP -> "operation not supported";
            case EAGAIN -> "try again (would block)";
            case EADDRINUSE -> "address already in use";
            case EADDRNOTAVAIL -> "address not available: not an address of this host";
            case EMSGSIZE -> "message too long for the socket or the path";
            case ENETUNREACH, EHOSTUNREACH -> "no route to the destination";
            case ENOBUFS -> "no buffer space: the device queue is full";
            case ECONNREFUSED -> "refused by the destination (ICMP port unreachable)";
            default -> "system error";
        };
    }
}
