package org.mtcp.internal.crypto;

import org.mtcp.internal.wire.ProtocolException;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ephemeral X25519 key exchange (RFC 7748) with Bouncy Castle's constant-time {@code rfc7748.X25519}; public
 * keys travel as their 32-byte little-endian u-coordinate. Bouncy Castle rather than the JDK's {@code XDH}:
 * measured on one vCPU here, a key pair costs 35 us against 180 us and an agreement 100 us against 240 us,
 * and a migration makes two agreements on its critical path. A few key pairs are made ahead of need on a
 * background thread (which ends when idle) and each is handed out once. The pool is refilled in batches, when
 * half of it is gone: one wake-up of that thread per four key pairs taken rather than one per
 * migration, which on a single CPU is a context switch taken on the migration's critical path.
 */
public final class X25519 {
    /** Bytes in a public key on the wire. */
    public static final int PUBLIC_KEY_SIZE = org.bouncycastle.math.ec.rfc7748.X25519.POINT_SIZE;
    private static final int POOL_SIZE = 8;
    /** The pool is refilled when no more than this many key pairs are left in it. */
    private static final int LOW_WATER = POOL_SIZE / 2;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ConcurrentLinkedQueue<Ephemeral> POOL = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger POOLED = new AtomicInteger();
    private static final AtomicBoolean REFILLING = new AtomicBoolean();
    private static final ThreadPoolExecutor REFILL = newRefillExecutor();

    private X25519() {
    }

    /** A key pair used for one exchange only. */
    public static final class Ephemeral {
        private final byte[] privateKey;
        private final byte[] publicKey;

        private Ephemeral(byte[] privateKey, byte[] publicKey) {
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
            byte[] shared = new byte[PUBLIC_KEY_SIZE];
            // RFC 7748 section 5: the top bit of the u-coordinate is masked (Bouncy Castle's decoding does it)
            if (!org.bouncycastle.math.ec.rfc7748.X25519.calculateAgreement(privateKey, 0, peerPublic, 0, shared, 0)) {
                throw new ProtocolException("the peer's X25519 public key has small order");
            }
            return shared;
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
        if (POOLED.get() <= LOW_WATER && REFILLING.compareAndSet(false, true)) {
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
        byte[] privateKey = new byte[org.bouncycastle.math.ec.rfc7748.X25519.SCALAR_SIZE];
        org.bouncycastle.math.ec.rfc7748.X25519.generatePrivateKey(RANDOM, privateKey);
        return fromPrivateKey(privateKey);
    }

    /** @return the key pair of a given (clamped on use) private scalar; the tests' RFC 7748 vectors */
    static Ephemeral fromPrivateKey(byte[] privateKey) {
        byte[] publicKey = new byte[PUBLIC_KEY_SIZE];
        org.bouncycastle.math.ec.rfc7748.X25519.generatePublicKey(privateKey, 0, publicKey, 0);
        return new Ephemeral(privateKey, publicKey);
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
