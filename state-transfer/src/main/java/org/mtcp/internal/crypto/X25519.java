package org.mtcp.internal.crypto;

import org.mtcp.internal.wire.ProtocolException;

import javax.crypto.KeyAgreement;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPublicKeySpec;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ephemeral X25519 key exchange (RFC 7748) with the JDK's {@code XDH} provider; public keys travel as
 * their 32-byte little-endian u-coordinate. A key pair costs about as much as an agreement (~0.1 ms
 * here), so a few are made ahead of need on a background thread (which ends when idle) and each is
 * handed out once: the handshake and the migration path pay only for the agreement.
 */
public final class X25519 {
    /** Bytes in a public key on the wire. */
    public static final int PUBLIC_KEY_SIZE = 32;
    private static final int POOL_SIZE = 8;
    private static final ConcurrentLinkedQueue<Ephemeral> POOL = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger POOLED = new AtomicInteger();
    private static final AtomicBoolean REFILLING = new AtomicBoolean();
    private static final ThreadPoolExecutor REFILL = newRefillExecutor();

    private X25519() {
    }

    /** A key pair used for one exchange only. */
    public static final class Ephemeral {
        private final PrivateKey privateKey;
        private final byte[] publicKey;

        private Ephemeral(PrivateKey privateKey, byte[] publicKey) {
            this.privateKey = privateKey;
            this.publicKey = publicKey;
        }

        /** @return the public key as sent on the wire (a copy) */
        public byte[] publicKey() {
            return publicKey.clone();
        }

        /**
         * @param peerPublic the peer's public key from the wire
         * @return the shared secret
         * @throws ProtocolException for a malformed key or one of small order (an all-zero secret)
         */
        public byte[] agree(byte[] peerPublic) throws ProtocolException {
            if (peerPublic.length != PUBLIC_KEY_SIZE) {
                throw new ProtocolException("an X25519 public key of " + peerPublic.length + " bytes");
            }
            try {
                KeyAgreement ka = KeyAgreement.getInstance("X25519");
                ka.init(privateKey);
                ka.doPhase(decode(peerPublic), true);
                byte[] shared = ka.generateSecret();
                if (allZero(shared)) {
                    throw new ProtocolException("the peer's X25519 public key has small order");
                }
                return shared;
            } catch (GeneralSecurityException | IllegalStateException e) {
                throw new ProtocolException("the peer's X25519 public key is unusable: " + e.getMessage());
            }
        }
    }

    /** @return a fresh key pair, made ahead if one is ready */
    public static Ephemeral ephemeral() {
        Ephemeral e = POOL.poll();
        if (e != null) {
            POOLED.decrementAndGet();
        } else {
            e = generate();
        }
        refill();
        return e;
    }

    private static void refill() {
        if (POOLED.get() < POOL_SIZE && REFILLING.compareAndSet(false, true)) {
            try {
                REFILL.execute(() -> {
                    try {
                        while (POOLED.get() < POOL_SIZE) {
                            POOL.add(generate());
                            POOLED.incrementAndGet();
                        }
                    } finally {
                        REFILLING.set(false);
                    }
                });
            } catch (RuntimeException rejected) {
                REFILLING.set(false);
            }
        }
    }

    private static Ephemeral generate() {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            return new Ephemeral(kp.getPrivate(), encode((XECPublicKey) kp.getPublic()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's X25519 is unavailable", e);
        }
    }

    private static byte[] encode(XECPublicKey key) {
        byte[] be = key.getU().toByteArray(); // big-endian, perhaps with a sign byte
        byte[] le = new byte[PUBLIC_KEY_SIZE];
        for (int i = 0; i < PUBLIC_KEY_SIZE && i < be.length; i++) {
            le[i] = be[be.length - 1 - i];
        }
        return le;
    }

    private static XECPublicKey decode(byte[] le) throws GeneralSecurityException {
        byte[] be = new byte[PUBLIC_KEY_SIZE];
        for (int i = 0; i < PUBLIC_KEY_SIZE; i++) {
            be[i] = le[PUBLIC_KEY_SIZE - 1 - i];
        }
        be[0] &= 0x7f; // RFC 7748 section 5: the top bit is masked
        XECPublicKeySpec spec = new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be));
        return (XECPublicKey) KeyFactory.getInstance("X25519").generatePublic(spec);
    }

    private static boolean allZero(byte[] b) {
        int acc = 0;
        for (byte x : b) {
            acc |= x;
        }
        return acc == 0;
    }

    private static ThreadPoolExecutor newRefillExecutor() {
        ThreadPoolExecutor ex = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1), r -> {
            Thread t = new Thread(r, "mtcp-keys");
            t.setDaemon(true);
            return t;
        });
        ex.allowCoreThreadTimeOut(true);
        return ex;
    }
}
