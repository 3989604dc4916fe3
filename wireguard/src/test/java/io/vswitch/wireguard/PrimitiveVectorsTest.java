package io.vswitch.wireguard;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The primitives against their published vectors: RFC 7693, RFC 7748, RFC 8439, draft-irtf-cfrg-xchacha. */
class PrimitiveVectorsTest {
    private static final byte[] SUNSCREEN = ("Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
            + "for the future, sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);

    @Test
    void blake2sOfAbcIsRfc7693AppendixB() {
        assertEquals("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
                Hex.of(Blake2s.hash("abc".getBytes(StandardCharsets.US_ASCII))));
    }

    /** RFC 7693 Appendix E: the grand hash over unkeyed and keyed hashes of many lengths. */
    @Test
    void blake2sSelfTestIsRfc7693AppendixE() {
        int[] mdLengths = {16, 20, 28, 32};
        int[] inLengths = {0, 3, 64, 65, 255, 1024};
        Blake2s grand = new Blake2s().init(32);
        for (int outLength : mdLengths) {
            for (int inLength : inLengths) {
                byte[] in = sequence(inLength, inLength);
                byte[] md = new byte[outLength];
                new Blake2s().init(outLength).update(in).doFinal(md, 0);
                grand.update(md);
                byte[] key = sequence(outLength, outLength);
                new Blake2s().init(outLength, key, outLength).update(in).doFinal(md, 0);
                grand.update(md);
            }
        }
        byte[] out = new byte[32];
        grand.doFinal(out, 0);
        assertEquals("6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe", Hex.of(out));
    }

    private static byte[] sequence(int length, int seed) {
        byte[] out = new byte[length];
        int a = 0xDEAD4BAD * seed;
        int b = 1;
        for (int i = 0; i < length; i++) {
            int t = a + b;
            a = b;
            b = t;
            out[i] = (byte) (t >>> 24);
        }
        return out;
    }

    /** The published initial chaining key and hash of WireGuard's handshake (HASH(CONSTRUCTION), HASH(ck || IDENTIFIER)). */
    @Test
    void wireguardInitialChainingKeyAndHash() {
        SymmetricState s = SymmetricState.initialize(Protocol.CONSTRUCTION, Protocol.IDENTIFIER);
        assertEquals("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", Hex.of(s.chainingKey()));
        assertEquals("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", Hex.of(s.hash()));
    }

    @Test
    void x25519IsRfc7748Section5_2() {
        byte[] out = new byte[32];
        assertTrue(X25519.agree(Hex.bytes("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                Hex.bytes("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"), out));
        assertEquals("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552", Hex.of(out));
        assertTrue(X25519.agree(Hex.bytes("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                Hex.bytes("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"), out));
        assertEquals("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957", Hex.of(out));
    }

    @Test
    void x25519IsRfc7748Section6_1() {
        byte[] alice = Hex.bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] bob = Hex.bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Hex.of(X25519.publicKey(alice)));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Hex.of(X25519.publicKey(bob)));
        byte[] k1 = new byte[32];
        byte[] k2 = new byte[32];
        assertTrue(X25519.agree(alice, X25519.publicKey(bob), k1));
        assertTrue(X25519.agree(bob, X25519.publicKey(alice), k2));
        assertEquals("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", Hex.of(k1));
        assertArrayEquals(k1, k2);
    }

    @Test
    void x25519RefusesSmallOrderPoints() {
        byte[] out = new byte[32];
        assertFalse(X25519.agree(X25519.generatePrivate(new java.security.SecureRandom()), new byte[32], out));
        byte[] one = new byte[32];
        one[0] = 1;
        assertFalse(X25519.agree(X25519.generatePrivate(new java.security.SecureRandom()), one, out));
    }

    /** RFC 8439 section 2.8.2. */
    @Test
    void chaCha20Poly1305IsRfc8439Section2_8_2() throws Exception {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = Hex.bytes("070000004041424344454647");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        String expected = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
                + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                + "3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691";
        // The nonce's first 4 bytes are not zero here, so this drives the JDK directly, as Aead does.
        var cipher = javax.crypto.Cipher.getInstance("ChaCha20-Poly1305");
        cipher.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "ChaCha20"),
                new javax.crypto.spec.IvParameterSpec(nonce));
        cipher.updateAAD(aad);
        assertEquals(expected, Hex.of(cipher.doFinal(SUNSCREEN)));
        // The transport cipher with a WireGuard nonce (counter 7 as little-endian after 4 zero bytes) agrees with Aead.
        byte[] sealed = new byte[SUNSCREEN.length + 16];
        Aead.seal(key, 7, SUNSCREEN, 0, SUNSCREEN.length, aad, sealed, 0);
        byte[] back = new byte[SUNSCREEN.length];
        assertTrue(Aead.open(key, 7, sealed, 0, sealed.length, aad, back, 0));
        assertArrayEquals(SUNSCREEN, back);
        sealed[3] ^= 1;
        assertFalse(Aead.open(key, 7, sealed, 0, sealed.length, aad, back, 0));
    }

    /** draft-irtf-cfrg-xchacha section 2.2.1. */
    @Test
    void hChaCha20IsXChaChaDraftSection2_2_1() {
        byte[] key = Hex.bytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] nonce = Hex.bytes("000000090000004a0000000031415927");
        assertEquals("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc", Hex.of(HChaCha20.subkey(key, nonce, 0)));
    }

    /** draft-irtf-cfrg-xchacha appendix A.3.1. */
    @Test
    void xChaCha20Poly1305IsXChaChaDraftAppendixA3_1() {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = Hex.bytes("404142434445464748494a4b4c4d4e4f5051525354555657");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        byte[] sealed = new byte[SUNSCREEN.length + 16];
        Aead.xseal(key, nonce, SUNSCREEN, 0, SUNSCREEN.length, aad, sealed, 0);
        assertEquals("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39"
                + "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921"
                + "f9664c97637da9768812f615c68b13b52e" + "c0875924c1c7987947deafd8780acf49", Hex.of(sealed));
        byte[] back = new byte[SUNSCREEN.length];
        assertTrue(Aead.xopen(key, nonce, sealed, 0, sealed.length, aad, back, 0));
        assertArrayEquals(SUNSCREEN, back);
        byte[] otherAad = Arrays.copyOf(aad, aad.length);
        otherAad[0] ^= 1;
        assertFalse(Aead.xopen(key, nonce, sealed, 0, sealed.length, otherAad, back, 0));
    }

    /** HMAC-BLAKE2s and the KDF against an independent construction from the hash itself. */
    @Test
    void kdfChainsHmacAsTheWhitepaperDefines() {
        byte[] key = Hex.bytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] input = "input".getBytes(StandardCharsets.US_ASCII);
        byte[][] three = Kdf.derive(3, key, input);
        byte[] t0 = Kdf.hmac(key, input);
        assertArrayEquals(Kdf.hmac(t0, new byte[] {1}), three[0]);
        byte[] t1and2 = Arrays.copyOf(three[0], 33);
        t1and2[32] = 2;
        assertArrayEquals(Kdf.hmac(t0, t1and2), three[1]);
        // HMAC itself: H((K ^ opad) || H((K ^ ipad) || m)) computed by hand.
        byte[] ipad = new byte[64];
        byte[] opad = new byte[64];
        for (int i = 0; i < 64; i++) {
            ipad[i] = (byte) ((i < 32 ? key[i] : 0) ^ 0x36);
            opad[i] = (byte) ((i < 32 ? key[i] : 0) ^ 0x5c);
        }
        byte[] inner = new byte[ipad.length + input.length];
        System.arraycopy(ipad, 0, inner, 0, 64);
        System.arraycopy(input, 0, inner, 64, input.length);
        byte[] outer = new byte[96];
        System.arraycopy(opad, 0, outer, 0, 64);
        System.arraycopy(Blake2s.hash(inner), 0, outer, 64, 32);
        assertArrayEquals(Blake2s.hash(outer), t0);
    }
}
