package org.mtcp.internal.crypto;

import org.junit.jupiter.api.Test;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The key exchange, the key schedule, the proofs and the MIGRATE_ACK confirmation. */
class KeyScheduleTest {
    private static final InetSocketAddress S1 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7001);
    private static final InetSocketAddress S2 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7002);
    private static final InetSocketAddress S3 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7003);

    @Test
    void bothEndsOfAnExchangeAgreeAndNothingSecretIsOnTheWire() throws ProtocolException {
        X25519.Ephemeral client = X25519.ephemeral();
        X25519.Ephemeral server = X25519.ephemeral();
        Message.Hello hello = new Message.Hello(0, 1 << 20, client.publicKey());
        Message.HelloAck ack = new Message.HelloAck(Proofs.random(16), server.publicKey(), 1 << 20, S1, List.of(S2));
        byte[] atClient = KeySchedule.sessionKey(client.agree(ack.serverPublic()), Message.payload(hello), Message.payload(ack));
        byte[] atServer = KeySchedule.sessionKey(server.agree(hello.clientPublic()), Message.payload(hello), Message.payload(ack));
        assertArrayEquals(atClient, atServer);
        assertEquals(32, atClient.length);
        String wire = HexFormat.of().formatHex(Message.payload(hello)) + HexFormat.of().formatHex(Message.payload(ack));
        assertFalse(wire.contains(HexFormat.of().formatHex(atClient).substring(0, 16)), "the session key appears on the wire");
        // a transcript that differs in any byte gives another key
        Message.HelloAck altered = new Message.HelloAck(ack.sessionId(), ack.serverPublic(), ack.credit(), S3, ack.alternates());
        assertFalse(java.util.Arrays.equals(atClient,
                KeySchedule.sessionKey(client.agree(ack.serverPublic()), Message.payload(hello), Message.payload(altered))));
    }

    @Test
    void everyEphemeralKeyIsFresh() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 40; i++) {
            assertTrue(seen.add(HexFormat.of().formatHex(X25519.ephemeral().publicKey())), "a public key was handed out twice");
        }
    }

    @Test
    void theExchangeMatchesRfc7748AndTheJdk() throws Exception {
        // RFC 7748 section 6.1: Alice's and Bob's private keys, Bob's public key and the shared secret
        HexFormat hex = HexFormat.of();
        X25519.Ephemeral alice = X25519.fromPrivateKey(hex.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        X25519.Ephemeral bob = X25519.fromPrivateKey(hex.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", hex.formatHex(alice.publicKey()));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", hex.formatHex(bob.publicKey()));
        String shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        assertEquals(shared, hex.formatHex(alice.agree(bob.publicKey())));
        assertEquals(shared, hex.formatHex(bob.agree(alice.publicKey())));
        // and with the JDK's XDH on the other end (the encoding of the u-coordinate)
        java.security.KeyPair jdk = java.security.KeyPairGenerator.getInstance("X25519").generateKeyPair();
        byte[] be = ((java.security.interfaces.XECPublicKey) jdk.getPublic()).getU().toByteArray();
        byte[] jdkPublic = new byte[32];
        for (int i = 0; i < 32 && i < be.length; i++) {
            jdkPublic[i] = be[be.length - 1 - i];
        }
        javax.crypto.KeyAgreement ka = javax.crypto.KeyAgreement.getInstance("X25519");
        ka.init(jdk.getPrivate());
        byte[] ub = new byte[32];
        byte[] le = alice.publicKey();
        for (int i = 0; i < 32; i++) {
            ub[i] = le[31 - i];
        }
        ka.doPhase(java.security.KeyFactory.getInstance("X25519").generatePublic(new java.security.spec.XECPublicKeySpec(
                java.security.spec.NamedParameterSpec.X25519, new java.math.BigInteger(1, ub))), true);
        assertArrayEquals(ka.generateSecret(), alice.agree(jdkPublic));
    }

    @Test
    void smallOrderAndMalformedPublicKeysAreRefused() {
        X25519.Ephemeral e = X25519.ephemeral();
        ProtocolException zero = assertThrows(ProtocolException.class, () -> e.agree(new byte[32]));
        assertTrue(zero.getMessage().contains("X25519"), zero.getMessage());
        byte[] one = new byte[32];
        one[0] = 1; // u = 1: a point of small order
        assertThrows(ProtocolException.class, () -> e.agree(one));
        assertThrows(ProtocolException.class, () -> e.agree(new byte[31]));
    }

    @Test
    void hkdfExpandMatchesRfc5869() {
        // RFC 5869 test case 1: PRK and info; the first 32 bytes of its OKM
        byte[] prk = HexFormat.of().parseHex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
        org.bouncycastle.crypto.generators.HKDFBytesGenerator g =
                new org.bouncycastle.crypto.generators.HKDFBytesGenerator(new org.bouncycastle.crypto.digests.SHA256Digest());
        g.init(org.bouncycastle.crypto.params.HKDFParameters.skipExtractParameters(prk, HexFormat.of().parseHex("f0f1f2f3f4f5f6f7f8f9")));
        byte[] okm = new byte[42];
        g.generateBytes(okm, 0, okm.length);
        assertEquals("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", HexFormat.of().formatHex(okm));
        // purposes give independent keys
        byte[] k = Proofs.random(32);
        assertFalse(java.util.Arrays.equals(KeySchedule.derive(k, KeySchedule.Purpose.CLIENT_CONTROL),
                KeySchedule.derive(k, KeySchedule.Purpose.SERVER_CONTROL)));
    }

    @Test
    void aProofBindsEveryFieldItAuthorizes() {
        byte[] key = Proofs.random(32);
        byte[] id = Proofs.random(16);
        byte[] pub = X25519.ephemeral().publicKey();
        byte[] proof = Proofs.migrationProof(key, id, 7, S1, S2, 1000, 5000, pub);
        assertTrue(Proofs.verify(key, id, 7, S1, S2, 1000, 5000, pub, proof));
        assertFalse(Proofs.verify(Proofs.random(32), id, 7, S1, S2, 1000, 5000, pub, proof), "another key");
        assertFalse(Proofs.verify(key, Proofs.random(16), 7, S1, S2, 1000, 5000, pub, proof), "another session");
        assertFalse(Proofs.verify(key, id, 8, S1, S2, 1000, 5000, pub, proof), "another sequence");
        assertFalse(Proofs.verify(key, id, 7, S3, S2, 1000, 5000, pub, proof), "another origin");
        assertFalse(Proofs.verify(key, id, 7, S1, S3, 1000, 5000, pub, proof), "another destination (a relayed proof)");
        assertFalse(Proofs.verify(key, id, 7, S1, S2, 1001, 5000, pub, proof), "other offsets");
        assertFalse(Proofs.verify(key, id, 7, S1, S2, 1000, 5001, pub, proof), "another credit");
        assertFalse(Proofs.verify(key, id, 7, S1, S2, 1000, 5000, X25519.ephemeral().publicKey(), proof), "another client key");
    }

    @Test
    void theRotatedKeyNeedsTheExchangeAndOnlyTheDestinationCanConfirmIt() throws ProtocolException {
        byte[] old = Proofs.random(32);
        byte[] id = Proofs.random(16);
        X25519.Ephemeral client = X25519.ephemeral();
        X25519.Ephemeral destination = X25519.ephemeral();
        byte[] pub = client.publicKey();
        Message.MigrateRequest req = new Message.MigrateRequest(id, S1, S2, 10, 20, 1, pub,
                Proofs.migrationProof(old, id, 1, S1, S2, 10, 20, pub));
        byte[] atDestination = KeySchedule.rotatedKey(old, destination.agree(pub), Message.payload(req));
        Message.MigrateAck unconfirmed = new Message.MigrateAck(0, 0, 100, S2, List.of(S1), destination.publicKey(), new byte[32]);
        Message.MigrateAck ack = new Message.MigrateAck(0, 0, 100, S2, List.of(S1), destination.publicKey(),
                Proofs.ackConfirmation(atDestination, req, unconfirmed.confirmed()));
        byte[] atClient = KeySchedule.rotatedKey(old, client.agree(ack.serverPublic()), Message.payload(req));
        assertArrayEquals(atDestination, atClient);
        assertFalse(java.util.Arrays.equals(old, atClient));
        assertTrue(Proofs.verifyAck(atClient, req, ack));
        // an observer with the old key (the origin, or whoever learned it) cannot compute the new one
        X25519.Ephemeral thief = X25519.ephemeral();
        assertFalse(java.util.Arrays.equals(atClient, KeySchedule.rotatedKey(old, thief.agree(pub), Message.payload(req))));
        assertFalse(java.util.Arrays.equals(atClient,
                KeySchedule.rotatedKey(old, thief.agree(ack.serverPublic()), Message.payload(req))));
        // an impostor destination, which never got the old key from the origin, cannot confirm
        byte[] impostorKey = KeySchedule.rotatedKey(Proofs.random(32), thief.agree(pub), Message.payload(req));
        Message.MigrateAck forged = new Message.MigrateAck(0, 0, 100, S2, List.of(S1), thief.publicKey(),
                Proofs.ackConfirmation(impostorKey, req, new Message.MigrateAck(0, 0, 100, S2, List.of(S1), thief.publicKey(),
                        new byte[32]).confirmed()));
        byte[] clientWithImpostor = KeySchedule.rotatedKey(old, client.agree(forged.serverPublic()), Message.payload(req));
        assertFalse(Proofs.verifyAck(clientWithImpostor, req, forged));
        // an altered acknowledgement fails its confirmation
        Message.MigrateAck moved = new Message.MigrateAck(5, 0, 100, S2, List.of(S1), ack.serverPublic(), ack.confirm());
        assertFalse(Proofs.verifyAck(atClient, req, moved));
    }

    @Test
    void sealedControlFramesOpenOnceAndOnlyFromThePeer() throws ProtocolException {
        byte[] key = Proofs.random(32);
        ControlSeal server = ControlSeal.server(key);
        ControlSeal client = ControlSeal.client(key);
        Message.Sealed t1 = server.seal(new Message.Trigger(S2));
        Message.Sealed t2 = server.seal(new Message.Error("bye"));
        assertEquals(new Message.Trigger(S2), client.open(t1, "test"));
        assertEquals(new Message.Error("bye"), client.open(t2, "test"));
        ProtocolException replay = assertThrows(ProtocolException.class, () -> client.open(t1, "test link"));
        assertTrue(replay.getMessage().contains("replays counter 0") && replay.getMessage().contains("test link"), replay.getMessage());
        // the client's own frame reflected back, a frame under another key, an altered frame
        Message.Sealed mine = client.seal(new Message.Moved());
        assertThrows(ProtocolException.class, () -> ControlSeal.client(key).open(mine, "test"));
        assertEquals(new Message.Moved(), ControlSeal.server(key).open(mine, "test"));
        Message.Sealed other = ControlSeal.server(Proofs.random(32)).seal(new Message.Trigger(S3));
        assertTrue(assertThrows(ProtocolException.class, () -> ControlSeal.client(key).open(other, "test")).getMessage()
                .contains("wrong tag"));
        Message.Sealed t3 = server.seal(new Message.Trigger(S2));
        byte[] body = t3.innerPayload().clone();
        body[body.length - 1] ^= 1;
        assertThrows(ProtocolException.class, () -> client.open(new Message.Sealed(t3.counter(), t3.innerType(), body, t3.tag()), "t"));
        assertEquals(new Message.Trigger(S2), client.open(t3, "test"), "the real frame still opens after a forged one");
        // only TRIGGER, MOVED and ERROR may be sealed
        Message.Sealed ack = server.seal(new Message.Ack(1, 2, 1));
        assertTrue(assertThrows(ProtocolException.class, () -> client.open(ack, "test")).getMessage().contains("only TRIGGER"));
        assertEquals(Wire.SEALED, t1.type());
    }
}
