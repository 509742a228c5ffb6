package org.mtcp.internal.session;

import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.wire.Message;

import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * Session identifiers and migration proofs. A migration request carries the HMAC, under the session
 * key's proof key ({@link KeySchedule}), of everything it authorizes: the session, a sequence number
 * the origin accepts only once and only above the last, the origin, the destination, the client's
 * offsets and its new public key. The origin checks it with its own identity and the authenticated
 * peer as destination, so a proof is good for that one pair and that one request. A MIGRATE_ACK's
 * confirmation, under the rotated key, shows the client that the destination got the session from
 * its origin.
 */
public final class Proofs {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Proofs() {
    }

    /** @return {@code n} random bytes */
    public static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** @return the proof of a migration request with these fields under the session key {@code key} */
    public static byte[] migrationProof(byte[] key, byte[] sessionId, long seq, InetSocketAddress origin,
                                        InetSocketAddress destination, long downReceived, long credit, byte[] clientPublic) {
        return KeySchedule.mac(KeySchedule.derive(key, KeySchedule.Purpose.PROOF))
                .doFinal(Message.proofInput(sessionId, seq, origin, destination, downReceived, credit, clientPublic));
    }

    /** @return whether {@code proof} is right for these fields, compared in constant time */
    public static boolean verify(byte[] key, byte[] sessionId, long seq, InetSocketAddress origin, InetSocketAddress destination,
                                 long downReceived, long credit, byte[] clientPublic, byte[] proof) {
        return MessageDigest.isEqual(
                migrationProof(key, sessionId, seq, origin, destination, downReceived, credit, clientPublic), proof);
    }

    /**
     * @param newKey    the rotated session key
     * @param request   the client's MIGRATE_REQ
     * @param confirmed the MIGRATE_ACK's payload before its confirmation ({@link Message.MigrateAck#confirmed})
     * @return the MIGRATE_ACK's confirmation
     */
    public static byte[] ackConfirmation(byte[] newKey, Message.MigrateRequest request, byte[] confirmed) {
        javax.crypto.Mac mac = KeySchedule.mac(KeySchedule.derive(newKey, KeySchedule.Purpose.ACK_CONFIRM));
        mac.update(Message.payload(request));
        return mac.doFinal(confirmed);
    }

    /** @return whether a MIGRATE_ACK's confirmation is right, compared in constant time */
    public static boolean verifyAck(byte[] newKey, Message.MigrateRequest request, Message.MigrateAck ack) {
        return MessageDigest.isEqual(ackConfirmation(newKey, request, ack.confirmed()), ack.confirm());
    }

    /** @return lower-case hex */
    public static String hex(byte[] b) {
        char[] c = new char[b.length * 2];
        for (int i = 0; i < b.length; i++) {
            c[2 * i] = HEX[(b[i] >> 4) & 0xf];
            c[2 * i + 1] = HEX[b[i] & 0xf];
        }
        return new String(c);
    }
}
