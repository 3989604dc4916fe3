package io.vswitch.nativetap;

import java.io.IOException;

/**
 * A native call that failed. The message names the call, the device it was made for, the errno
 * by name and what it means, e.g. {@code ioctl(TUNSETIFF) on tap "blue0" failed: EPERM
 * (permission denied: needs root or CAP_NET_ADMIN)}.
 */
public final class NativeCallException extends IOException {
    private final String call;
    private final String device;
    private final int errno;

    public NativeCallException(String call, String device, int errno, String detail) {
        super(call + " on \"" + device + "\" failed: " + Errno.name(errno) + " ("
                + (detail != null ? detail : Errno.meaning(errno)) + ")");
        this.call = call;
        this.device = device;
        this.errno = errno;
    }

    public NativeCallException(String call, String device, int errno) {
        this(call, device, errno, null);
    }

    public String call() {
        return call;
    }

    public String device() {
        return device;
    }

    public int errno() {
        return errno;
    }
}
