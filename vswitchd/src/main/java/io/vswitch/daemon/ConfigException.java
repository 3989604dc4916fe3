package io.vswitch.daemon;

/**
 * A configuration file that cannot be used. The message names the file, the line, the key
 * (as a path such as {@code networks[1].mtu}) and what was expected, so an operator can fix it
 * without reading code: {@code /etc/vswitch.yaml:7: networks[1].mtu: expected an integer
 * 68..65517, got "big"}.
 */
public final class ConfigException extends Exception {
    private final String file;
    private final int line;
    private final String key;

    public ConfigException(String file, int line, String key, String problem) {
        super(file + ":" + line + ": " + (key.isEmpty() ? "" : key + ": ") + problem);
        this.file = file;
        this.line = line;
        this.key = key;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }

    public String key() {
        return key;
    }
}
