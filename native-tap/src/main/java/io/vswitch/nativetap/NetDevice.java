package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Netdevice ioctls (netdevice(7)) on a network interface of the calling thread's network
 * namespace: whether it exists, bring it up, read and set its MTU. They go through a throwaway
 * AF_INET datagram socket, the way {@code ip link} did before rtnetlink.
 */
public final class NetDevice {
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCSIFMTU = 0x8922;
    private static final short IFF_UP = 0x1;

    private NetDevice() {
    }

    /** The interface index, or 0 when no interface has this name. */
    public static int index(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            return Libc.ifNameToIndex(state, arena.allocateFrom(name));
        }
    }

    public static boolean exists(String name) {
        return index(name) != 0;
    }

    public static void setUp(String name, boolean up) throws NativeCallException {
        withRequest(name, (state, sock, req) -> {
            call(state, sock, SIOCGIFFLAGS, req, "ioctl(SIOCGIFFLAGS)", name);
            short flags = IfReq.flags(req);
            IfReq.flags(req, (short) (up ? flags | IFF_UP : flags & ~IFF_UP));
            call(state, sock, SIOCSIFFLAGS, req, "ioctl(SIOCSIFFLAGS)", name);
            return null;
        });
    }

    public static boolean isUp(String name) throws NativeCallException {
        return withRequest(name, (state, sock, req) -> {
            call(state, sock, SIOCGIFFLAGS, req, "ioctl(SIOCGIFFLAGS)", name);
            return (IfReq.flags(req) & IFF_UP) != 0;
        });
    }

    public static int mtu(String name) throws NativeCallException {
        return withRequest(name, (state, sock, req) -> {
            call(state, sock, SIOCGIFMTU, req, "ioctl(SIOCGIFMTU)", name);
            return IfReq.intValue(req);
        });
    }

    public static void setMtu(String name, int mtu) throws NativeCallException {
        withRequest(name, (state, sock, req) -> {
            IfReq.intValue(req, mtu);
            call(state, sock, SIOCSIFMTU, req, "ioctl(SIOCSIFMTU, " + mtu + ")", name);
            return null;
        });
    }

    /** One or two ioctls on an {@code ifreq} for {@code name}, through a throwaway socket. */
    @FunctionalInterface
    private interface Request<T> {
        T run(MemorySegment state, int sock, MemorySegment req) throws NativeCallException;
    }

    private static <T> T withRequest(String name, Request<T> request) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment req = IfReq.allocate(arena, name);
            int sock = socket(state, name);
            try {
                return request.run(state, sock, req);
            } finally {
                Libc.close(state, sock);
            }
        }
    }

    private static int socket(MemorySegment state, String name) throws NativeCallException {
        int sock = Libc.socket(state, Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (sock < 0) {
            throw new NativeCallException("socket(AF_INET, SOCK_DGRAM)", name, Libc.errno(state));
        }
        return sock;
    }

    private static void call(MemorySegment state, int sock, long request, MemorySegment req, String what,
            String name) throws NativeCallException {
        if (Libc.ioctl(state, sock, request, req) < 0) {
            throw new NativeCallException(what, name, Libc.errno(state));
        }
    }
}
