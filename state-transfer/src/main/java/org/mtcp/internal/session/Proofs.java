package org.mtcp.internal.session;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * Session identifiers, secrets and migration proofs. A session's secret is given to the client at the
 * handshake and travels between servers with the session state; a migration request carries
 * HMAC-SHA256(secret, "mtcp-migrate" | session id | sequence), and the origin accepts a sequence
 * number only once, so a forged or replayed request is refused.
 */
public final class Proofs {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] MIGRATE_LABEL = "mtcp-migrate".getBytes(StandardCharsets.US_ASCII);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Proofs() {
    }

    /** @return {@code n} random bytes */
    public static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** @return the proof that the holder of {@code secret} asks to migrate with this sequence number */
    public static byte[] migrationProof(byte[] secret, byte[] sessionId, long seq) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(MIGRATE_LABEL);
            mac.update(sessionId);
            mac.update(ByteBuffer.allocate(8).putLong(0, seq).array());
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** @return whether {@code proof} is right, compared in constant time */
    public static boolean verify(byte[] secret, byte[] sessionId, long seq, byte[] proof) {
        return MessageDigest.isEqual(migrationProof(secret, sessionId, seq), proof);
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
