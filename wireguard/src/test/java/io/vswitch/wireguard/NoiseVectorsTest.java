package io.vswitch.wireguard;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cacophony vector for Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (the Noise pattern WireGuard is,
 * with prologue "John Galt" instead of WireGuard's identifier and free payloads): both messages
 * of the handshake, the final handshake hash, and four transport messages under the split keys.
 */
class NoiseVectorsTest {
    private static final byte[] NAME = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROLOGUE = Hex.bytes("4a6f686e2047616c74");
    private static final byte[] PSK = Hex.bytes("54686973206973206d7920417573747269616e20706572737065637469766521");
    private static final byte[] INIT_STATIC = Hex.bytes("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
    private static final byte[] INIT_EPHEMERAL = Hex.bytes("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
    private static final byte[] RESP_STATIC = Hex.bytes("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
    private static final byte[] RESP_EPHEMERAL = Hex.bytes("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");

    @Test
    void ikPsk2HandshakeAndTransportMatchCacophony() {
        byte[] respPub = X25519.publicKey(RESP_STATIC);
        assertEquals("31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62", Hex.of(respPub));

        SymmetricState init = SymmetricState.initialize(NAME, PROLOGUE);
        init.mixHash(respPub);
        SymmetricState resp = SymmetricState.initialize(NAME, PROLOGUE);
        resp.mixHash(respPub);

        byte[] payload1 = Hex.bytes("4c756477696720766f6e204d69736573");
        byte[] msg1 = new byte[32 + 48 + payload1.length + 16];
        assertTrue(IkPsk2.writeFirst(init, INIT_EPHEMERAL, X25519.publicKey(INIT_EPHEMERAL), INIT_STATIC,
                X25519.publicKey(INIT_STATIC), respPub, payload1, msg1, 0));
        assertEquals("ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944001e21de9f98ddd8e2ad57527207feb5"
                + "6253c9c94a9e496782ecfcb2a75fbcaf1b52948cc48daefe660c62119ab5000980c84831215f2441eba616548e832985"
                + "464cf17e51ee93109008399a21f7e13f", Hex.of(msg1));
        IkPsk2.First first = IkPsk2.readFirst(resp, RESP_STATIC, msg1, 0, payload1.length);
        assertNotNull(first);
        assertArrayEquals(payload1, first.payload());
        assertArrayEquals(X25519.publicKey(INIT_STATIC), first.staticKey());

        byte[] payload2 = Hex.bytes("4d757272617920526f746862617264");
        byte[] msg2 = new byte[32 + payload2.length + 16];
        assertTrue(IkPsk2.writeSecond(resp, RESP_EPHEMERAL, X25519.publicKey(RESP_EPHEMERAL), first.ephemeral(),
                first.staticKey(), PSK, payload2, msg2, 0));
        assertEquals("95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843cb765f2caef0751b8f007572dab03222"
                + "17755c0632f365717edbf34d33e87a", Hex.of(msg2));
        assertArrayEquals(payload2, IkPsk2.readSecond(init, INIT_EPHEMERAL, INIT_STATIC, PSK, msg2, 0, payload2.length));

        assertEquals("f5191b875290abcd41347ac3622d9679688a7e980229cb937ef748336cfde0e5", Hex.of(init.hash()));
        assertArrayEquals(init.hash(), resp.hash());

        byte[][] keys = init.split();
        assertArrayEquals(keys[0], resp.split()[0]);
        // Transport: initiator, responder, initiator, responder; each direction counts its own nonces.
        assertEquals("8153ca9833bc3c1b91a7e66e5f4d4f5b59bf9e64c2f20d15f0bba7", seal(keys[0], 0, "462e20412e20486179656b"));
        assertEquals("07af0c9c86e1b4e80f36b04ff7688d51141af3debd0332f0a705ef", seal(keys[1], 0, "4361726c204d656e676572"));
        assertEquals("6ab1467c0448cc78394494abaaf23afce0e234315d6e2624dcbfa8a21c1c4d073d", seal(keys[0], 1, "4a65616e2d426170746973746520536179"));
        assertEquals("dfc346c0d2296ae6cf1acf6f12b8456a1dba228cf8d8b774aacf1c47fc53aa80ebc7a4c292", seal(keys[1], 1, "457567656e2042f6686d20766f6e2042617765726b"));
    }

    private static String seal(byte[] key, long counter, String plainHex) {
        byte[] plain = Hex.bytes(plainHex);
        byte[] out = new byte[plain.length + 16];
        Aead.seal(key, counter, plain, 0, plain.length, new byte[0], out, 0);
        return Hex.of(out);
    }
}
