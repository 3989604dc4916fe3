package io.vswitch.resolver;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The host's resolvers, as resolv.conf(5) names them ({@code nameserver ADDRESS}, at most three used). */
public final class ResolvConf {
    public static final Path DEFAULT = Path.of("/etc/resolv.conf");

    private ResolvConf() {
    }

    /** The {@code nameserver} addresses of {@code file}, port 53; empty when it has none or does not exist. */
    public static List<InetSocketAddress> nameservers(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<InetSocketAddress> out = new ArrayList<>();
        for (String line : lines) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && words[0].equals("nameserver") && out.size() < 3) {
                InetAddress address = literal(words[1]);
                if (address != null) {
                    out.add(new InetSocketAddress(address, 53));
                }
            }
        }
        return List.copyOf(out);
    }

    /** An address literal ({@code 198.18.0.53}, {@code fd00::53}), never a name to look up; null if it is none. */
    static InetAddress literal(String text) {
        if (!text.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.%a-zA-Z0-9]*")) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * One resolver as a config file names it: {@code ADDRESS}, {@code ADDRESS:PORT} or
     * {@code [IPV6]:PORT}; throws with what was expected.
     */
    public static InetSocketAddress parse(String text) {
        String host = text;
        int port = 53;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("expected [IPV6]:PORT, got \"" + text + "\"");
            }
            host = text.substring(1, close);
            if (text.length() > close + 1) {
                if (text.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("expected [IPV6]:PORT, got \"" + text + "\"");
                }
                port = port(text.substring(close + 2), text);
            }
        } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
            host = text.substring(0, text.indexOf(':'));
            port = port(text.substring(text.indexOf(':') + 1), text);
        }
        InetAddress address = literal(host);
        if (address == null) {
            throw new IllegalArgumentException("expected an IP address, ADDRESS:PORT or [IPV6]:PORT, got \"" + text + "\"");
        }
        return new InetSocketAddress(address, port);
    }

    private static int port(String digits, String text) {
        try {
            int p = Integer.parseInt(digits);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("expected a port 1..65535 in \"" + text + "\"");
    }
}
