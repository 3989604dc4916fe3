package io.vswitch.nativetap;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The readiness datagram arrives at a socket bound where NOTIFY_SOCKET would name it, as systemd's does. */
class SdNotifyTest {
    private static final MethodHandle RECV = Libc.downcall("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

    /** A bound AF_UNIX datagram socket: systemd's side. */
    private static int listen(Arena arena, String name) throws Exception {
        MemorySegment st = Libc.errnoState(arena);
        int fd = Libc.socket(st, Libc.AF_UNIX, 2 | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        assertTrue(fd >= 0);
        MemorySegment address = arena.allocate(SdNotify.SOCKADDR_UN, 8);
        address.set(JAVA_SHORT, 0, (short) Libc.AF_UNIX);
        byte[] path = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(path, 0, address, JAVA_BYTE, 2, path.length);
        int length = 2 + path.length + (name.startsWith("@") ? 0 : 1);
        if (name.startsWith("@")) {
            address.set(JAVA_BYTE, 2, (byte) 0);
        }
        assertEquals(0, Libc.bind(st, fd, address.asSlice(0, length)), "bind errno " + Libc.errno(st));
        return fd;
    }

    private static String receive(Arena arena, int fd) throws Throwable {
        MemorySegment st = Libc.errnoState(arena);
        MemorySegment buf = arena.allocate(256);
        long n = (long) RECV.invokeExact(st, fd, buf.address(), 256L, 0);
        assertTrue(n > 0, "a datagram is waiting, errno " + Libc.errno(st));
        byte[] bytes = new byte[(int) n];
        MemorySegment.copy(buf, JAVA_BYTE, 0, bytes, 0, (int) n);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void sendsReadyToAPathSocketAndToAnAbstractOne() throws Throwable {
        Path dir = Files.createTempDirectory("notify-");
        String path = dir.resolve("notify.sock").toString();
        String abstractName = "@vswitch-notify-test-" + ProcessHandle.current().pid();
        try (Arena arena = Arena.ofConfined()) {
            int a = listen(arena, path);
            int b = listen(arena, abstractName);
            SdNotify.send(path, "READY=1");
            SdNotify.send(abstractName, "STOPPING=1");
            assertEquals("READY=1", receive(arena, a));
            assertEquals("STOPPING=1", receive(arena, b));
            Libc.close(Libc.errnoState(arena), a);
            Libc.close(Libc.errnoState(arena), b);
        } finally {
            Files.deleteIfExists(Path.of(path));
            Files.delete(dir);
        }
    }
}
