package io.vswitch.capture;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A classic BPF program (what tcpdump's filter expressions compile to) and an interpreter that
 * runs it over a frame in place: loads of 1, 2 and 4 bytes at absolute and indexed offsets, the
 * IP header length ({@code ldxb 4*([k]&0xf)}), the scratch memory, ALU, jumps and returns. A load
 * past the frame's end rejects the frame, as in the kernel. No allocation per frame.
 *
 * <p>{@link #compile} asks {@code tcpdump -ddd -y EN10MB} for the program, so the expressions are
 * exactly tcpdump's ({@code "icmp"}, {@code "tcp port 80 and host 198.18.0.2"}, ...).
 */
public final class Bpf {
    // Instruction classes and fields (linux/bpf_common.h)
    private static final int LD = 0x00;
    private static final int LDX = 0x01;
    private static final int ST = 0x02;
    private static final int STX = 0x03;
    private static final int ALU = 0x04;
    private static final int JMP = 0x05;
    private static final int RET = 0x06;
    private static final int MISC = 0x07;
    private static final int W = 0x00;
    private static final int H = 0x08;
    private static final int B = 0x10;
    private static final int IMM = 0x00;
    private static final int ABS = 0x20;
    private static final int IND = 0x40;
    private static final int MEM = 0x60;
    private static final int LEN = 0x80;
    private static final int MSH = 0xa0;
    private static final int K = 0x00;
    private static final int X = 0x08;
    private static final int A_SRC = 0x10;

    private final short[] code;
    private final byte[] jt;
    private final byte[] jf;
    private final int[] k;
    private final String expression;

    Bpf(String expression, short[] code, byte[] jt, byte[] jf, int[] k) {
        this.expression = expression;
        this.code = code;
        this.jt = jt;
        this.jf = jf;
        this.k = k;
        check();
    }

    public String expression() {
        return expression;
    }

    public int length() {
        return code.length;
    }

    /** Rejects programs the kernel would: jumps out of the program, no return at the end, bad memory slots. */
    private void check() {
        int n = code.length;
        if (n == 0 || n > 4096) {
            throw new IllegalArgumentException("a filter has 1 to 4096 instructions, not " + n);
        }
        for (int pc = 0; pc < n; pc++) {
            int c = code[pc] & 0xFFFF;
            int cls = c & 0x07;
            if (cls == JMP) {
                int op = c & 0xF0;
                long target = op == 0x00 ? pc + 1L + (k[pc] & 0xFFFFFFFFL) : pc + 1L + Math.max(jt[pc] & 0xFF, jf[pc] & 0xFF);
                if (target >= n) {
                    throw new IllegalArgumentException("instruction " + pc + " jumps past the end of the filter");
                }
            }
            if ((cls == ST || cls == STX || ((cls == LD || cls == LDX) && (c & 0xE0) == MEM)) && (k[pc] < 0 || k[pc] > 15)) {
                throw new IllegalArgumentException("instruction " + pc + " uses scratch memory slot " + k[pc]);
            }
        }
        if ((code[n - 1] & 0x07) != RET) {
            throw new IllegalArgumentException("a filter must end with a return");
        }
    }

    /** Whether the frame passes (the program returns non-zero). The frame's indices are not touched. */
    public boolean matches(ByteBuf frame) {
        int base = frame.readerIndex();
        int len = frame.readableBytes();
        int a = 0;
        int x = 0;
        int[] mem = null;
        int pc = 0;
        while (true) {
            int c = code[pc] & 0xFFFF;
            int kk = k[pc];
            switch (c & 0x07) {
                case LD, LDX -> {
                    int mode = c & 0xE0;
                    int size = c & 0x18;
                    int v;
                    if (mode == IMM) {
                        v = kk;
                    } else if (mode == LEN) {
                        v = len;
                    } else if (mode == MEM) {
                        v = mem == null ? 0 : mem[kk];
                    } else if (mode == MSH) {
                        if (kk < 0 || kk >= len) {
                            return false;
                        }
                        v = 4 * (frame.getUnsignedByte(base + kk) & 0x0F);
                    } else {
                        long off = (mode == IND ? (x & 0xFFFFFFFFL) : 0) + (kk & 0xFFFFFFFFL);
                        int bytes = size == W ? 4 : size == H ? 2 : 1;
                        if (off + bytes > len) {
                            return false;
                        }
                        int at = base + (int) off;
                        v = bytes == 4 ? frame.getInt(at) : bytes == 2 ? frame.getUnsignedShort(at) : frame.getUnsignedByte(at);
                    }
                    if ((c & 0x07) == LD) {
                        a = v;
                    } else {
                        x = v;
                    }
                    pc++;
                }
                case ST, STX -> {
                    if (mem == null) {
                        mem = new int[16];
                    }
                    mem[kk] = (c & 0x07) == ST ? a : x;
                    pc++;
                }
                case ALU -> {
                    int operand = (c & X) != 0 ? x : kk;
                    switch (c & 0xF0) {
                        case 0x00 -> a += operand;
                        case 0x10 -> a -= operand;
                        case 0x20 -> a *= operand;
                        case 0x30 -> {
                            if (operand == 0) {
                                return false;
                            }
                            a = Integer.divideUnsigned(a, operand);
                        }
                        case 0x40 -> a |= operand;
                        case 0x50 -> a &= operand;
                        case 0x60 -> a = operand >= 32 ? 0 : a << operand;
                        case 0x70 -> a = operand >= 32 ? 0 : a >>> operand;
                        case 0x80 -> a = -a;
                        case 0x90 -> {
                            if (operand == 0) {
                                return false;
                            }
                            a = Integer.remainderUnsigned(a, operand);
                        }
                        case 0xa0 -> a ^= operand;
                        default -> {
                            return false;
                        }
                    }
                    pc++;
                }
                case JMP -> {
                    int op = c & 0xF0;
                    if (op == 0x00) {
                        pc += 1 + kk;
                        continue;
                    }
                    int operand = (c & X) != 0 ? x : kk;
                    boolean taken = switch (op) {
                        case 0x10 -> a == operand;
                        case 0x20 -> Integer.compareUnsigned(a, operand) > 0;
                        case 0x30 -> Integer.compareUnsigned(a, operand) >= 0;
                        case 0x40 -> (a & operand) != 0;
                        default -> false;
                    };
                    pc += 1 + (taken ? jt[pc] & 0xFF : jf[pc] & 0xFF);
                }
                case RET -> {
                    int rv = (c & 0x18) == A_SRC ? a : kk;
                    return rv != 0;
                }
                default -> { // MISC: tax / txa
                    if ((c & 0xF8) == 0x00) {
                        x = a;
                    } else {
                        a = x;
                    }
                    pc++;
                }
            }
        }
    }

    /** Reads {@code tcpdump -ddd} output: a count, then "code jt jf k" per line. */
    static Bpf parse(String expression, String text) {
        String[] lines = text.strip().split("\\R");
        int n;
        try {
            n = Integer.parseInt(lines[0].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a BPF program: " + lines[0]);
        }
        if (lines.length != n + 1) {
            throw new IllegalArgumentException("a BPF program of " + n + " instructions has " + (lines.length - 1) + " lines");
        }
        short[] code = new short[n];
        byte[] jt = new byte[n];
        byte[] jf = new byte[n];
        int[] k = new int[n];
        for (int i = 0; i < n; i++) {
            String[] f = lines[i + 1].trim().split("\\s+");
            if (f.length != 4) {
                throw new IllegalArgumentException("BPF instruction " + i + ": expected 4 numbers, got " + lines[i + 1]);
            }
            code[i] = (short) Integer.parseInt(f[0]);
            jt[i] = (byte) Integer.parseInt(f[1]);
            jf[i] = (byte) Integer.parseInt(f[2]);
            k[i] = (int) Long.parseLong(f[3]);
        }
        return new Bpf(expression, code, jt, jf, k);
    }

    /**
     * Compiles a tcpdump filter expression for Ethernet frames with tcpdump itself. Throws
     * IllegalArgumentException with tcpdump's own complaint when the expression is wrong.
     */
    public static Bpf compile(String expression) throws IOException {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("an empty filter");
        }
        if (expression.length() > 1024) {
            throw new IllegalArgumentException("a filter of at most 1024 characters");
        }
        List<String> cmd = new ArrayList<>(List.of(tcpdump(), "-ddd", "-y", "EN10MB", "--"));
        cmd.add(expression);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("tcpdump did not compile the filter in 10 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while compiling the filter");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new IllegalArgumentException("tcpdump cannot compile \"" + expression + "\": "
                    + err.replaceFirst("^tcpdump: ", ""));
        }
        return parse(expression, out);
    }

    private static String tcpdump() throws IOException {
        for (String dir : new String[] {"/usr/bin", "/usr/sbin", "/bin", "/sbin"}) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, "tcpdump"))) {
                return dir + "/tcpdump";
            }
        }
        throw new IOException("filters are compiled by tcpdump, which is not installed (apt-get install tcpdump)");
    }
}
