package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram such as
 * {@code READY=1} to the AF_UNIX socket named by {@code $NOTIFY_SOCKET} (a path, or an abstract
 * name when it starts with '@'). With {@code Type=notify} a unit is "started" only then, so
 * {@code Before=docker.service} waits for a switch that really forwards.
 */
public final class SdNotify {
    // ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
    private static final MethodHandle SENDTO = Libc.downcall("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final int SOCK_DGRAM = 2;
    /** sizeof(struct sockaddr_un): family, then 108 bytes of path. */
    static final int SOCKADDR_UN = 110;

    private SdNotify() {
    }

    /** Sends {@code state} to systemd when it asked for it; false when there is no NOTIFY_SOCKET. */
    public static boolean notify(String state) throws NativeCallException {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return false;
        }
        send(socket, state);
        return true;
    }

    /** Sends {@code state} to the notification socket {@code socket}. */
    static void send(String socket, String state) throws NativeCallException {
        byte[] path = socket.getBytes(StandardCharsets.UTF_8);
        if (path.length == 0 || path.length >= SOCKADDR_UN - 2) {
            throw new NativeCallException("sd_notify", socket, Errno.EINVAL, "NOTIFY_SOCKET is not a socket name");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = Libc.errnoState(arena);
            int fd = Libc.socket(st, Libc.AF_UNIX, SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new NativeCallException("socket(AF_UNIX, SOCK_DGRAM)", socket, Libc.errno(st));
            }
            try {
                MemorySegment address = arena.allocate(SOCKADDR_UN, 8);
                address.set(JAVA_SHORT, 0, (short) Libc.AF_UNIX);
                MemorySegment.copy(path, 0, address, JAVA_BYTE, 2, path.length);
                int length = 2 + path.length;
                if (path[0] == '@') {
                    address.set(JAVA_BYTE, 2, (byte) 0); // an abstract name: no terminating NUL counted
                } else {
                    length++;
                }
                byte[] message = state.getBytes(StandardCharsets.UTF_8);
                MemorySegment data = arena.allocateFrom(JAVA_BYTE, message);
                long n;
                try {
                    n = (long) SENDTO.invokeExact(st, fd, data, (long) message.length, 0, address, length);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
                if (n < 0) {
                    throw new NativeCallException("sendto(NOTIFY_SOCKET)", socket, Libc.errno(st));
                }
            } finally {
                Libc.close(st, fd);
            }
        }
    }
}
