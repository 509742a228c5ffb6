package org.mtcp.internal.crypto;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The session key and what is derived from it, with HKDF-SHA256 (RFC 5869, Bouncy Castle's).
 *
 * <ul>
 *   <li>At the handshake: {@code K0 = HKDF(salt = SHA-256(HELLO payload | HELLO_ACK payload), ikm = X25519
 *       shared secret, info = "mtcp v2 session key")}. Nothing secret crosses the wire.</li>
 *   <li>At every committed migration, the destination and the client rotate it with a fresh exchange:
 *       {@code K' = HKDF(salt = K, ikm = X25519 shared secret, info = "mtcp v2 rotated key" | SHA-256(MIGRATE_REQ
 *       payload))}. Whoever held the old key (the origin, or anyone who ever learned it) cannot compute the
 *       new one.</li>
 *   <li>Keys for one purpose each, {@code HKDF-Expand(K, label)}: the migration proof, the MIGRATE_ACK
 *       confirmation, and the control frames of each direction of a data connection.</li>
 * </ul>
 */
public final class KeySchedule {
    /** Bytes in a session key and in a proof. */
    public static final int KEY_SIZE = 32;
    /** Bytes of a control frame's tag (HMAC-SHA256 truncated, as TLS and QUIC truncate theirs). */
    public static final int TAG_SIZE = 16;

    /** What a derived key is for. */
    public enum Purpose {
        /** The client's migration proofs. */
        PROOF("mtcp v2 proof"),
        /** The destination's MIGRATE_ACK confirmation. */
        ACK_CONFIRM("mtcp v2 ack confirm"),
        /** Control frames from the client on a data connection. */
        CLIENT_CONTROL("mtcp v2 client control"),
        /** Control frames from the server on a data connection. */
        SERVER_CONTROL("mtcp v2 server control");

        private final byte[] label;

        Purpose(String label) {
            this.label = label.getBytes(StandardCharsets.US_ASCII);
        }
    }

    private static final byte[] SESSION_INFO = "mtcp v2 session key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ROTATE_INFO = "mtcp v2 rotated key".getBytes(StandardCharsets.US_ASCII);

    private KeySchedule() {
    }

    /** @return the session key agreed at the handshake */
    public static byte[] sessionKey(byte[] shared, byte[] helloPayload, byte[] helloAckPayload) {
        return hkdf(sha256(helloPayload, helloAckPayload), shared, SESSION_INFO);
    }

    /** @return the session key after a migration, from the previous one and the migration's exchange */
    public static byte[] rotatedKey(byte[] previous, byte[] shared, byte[] migrateRequestPayload) {
        byte[] h = sha256(migrateRequestPayload);
        byte[] info = new byte[ROTATE_INFO.length + h.length];
        System.arraycopy(ROTATE_INFO, 0, info, 0, ROTATE_INFO.length);
        System.arraycopy(h, 0, info, ROTATE_INFO.length, h.length);
        return hkdf(previous, shared, info);
    }

    /** @return the key for one purpose, derived from the session key */
    public static byte[] derive(byte[] sessionKey, Purpose purpose) {
        HKDFBytesGenerator g = new HKDFBytesGenerator(new SHA256Digest());
        g.init(HKDFParameters.skipExtractParameters(sessionKey, purpose.label));
        byte[] out = new byte[KEY_SIZE];
        g.generateBytes(out, 0, out.length);
        return out;
    }

    /** @return a ready HMAC-SHA256 under {@code key} */
    public static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** @return SHA-256 of the parts, in order */
    public static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                d.update(p);
            }
            return d.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static byte[] hkdf(byte[] salt, byte[] ikm, byte[] info) {
        HKDFBytesGenerator g = new HKDFBytesGenerator(new SHA256Digest());
        g.init(new HKDFParameters(ikm, salt, info));
        byte[] out = new byte[KEY_SIZE];
        g.generateBytes(out, 0, out.length);
        return out;
    }
}
