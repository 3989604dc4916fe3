package io.vswitch.wireguard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/** Keys in {@code wg}'s format: 32 bytes in base64 (44 characters), one per file. */
public final class Keys {
    private Keys() {
    }

    public static byte[] decode(String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key '" + base64 + "' is not base64", e);
        }
        if (key.length != 32) {
            throw new IllegalArgumentException("key '" + base64 + "' is " + key.length + " bytes, not 32");
        }
        return key;
    }

    public static String encode(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    /** {@code wg genkey}. */
    public static byte[] generatePrivate() {
        return X25519.generatePrivate(new SecureRandom());
    }

    /** {@code wg pubkey}. */
    public static byte[] publicKey(byte[] privateKey) {
        return X25519.publicKey(privateKey);
    }

    /**
     * Reads a private key file as {@code wg genkey} writes it. Refuses a file that others may
     * read (group or other permission bits set): a key there is as good as published.
     */
    public static byte[] readPrivate(Path file) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        for (PosixFilePermission p : perms) {
            if (p != PosixFilePermission.OWNER_READ && p != PosixFilePermission.OWNER_WRITE) {
                throw new IOException(file + ": a private key file must be mode 0600 or 0400, not "
                        + java.nio.file.attribute.PosixFilePermissions.toString(perms));
            }
        }
        try {
            return decode(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
