package org.mtcp.client.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationListener;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.observe.MigrationRecorder;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.SessionInputStream;
import org.mtcp.internal.session.SessionOutputStream;
import org.mtcp.internal.wire.Message;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * For tests that play a destination by hand: a real client session (the engine behind
 * {@code MtcpSocket}, without the socket wrapper) and what only the client knows: its session id and
 * the migration proof of a sequence number. Also the client's migration under way, to observe its
 * state.
 */
public final class ClientInternals {
    private ClientInternals() {
    }

    /** @return a client session connected to the MTCP server {@code to}, its migration events told to {@code listener} */
    public static ClientSession connect(InetSocketAddress to, MigrationListener listener) throws IOException {
        MigrationRecorder recorder = ClientSession.newRecorder();
        if (listener != null) {
            recorder.listeners().add(listener);
        }
        return ClientSession.connect(to, null, 10_000, ch -> { }, (server, remote, port) -> { }, recorder, null);
    }

    /** @return the session key now (what a thief would need) */
    public static byte[] key(ClientSession s) {
        return s.key().clone();
    }

    /** @return the session id, raw */
    public static byte[] id(ClientSession s) {
        return s.id().clone();
    }

    /**
     * @return the MIGRATE_REQ the session's client would send for migration sequence {@code seq}, with
     * a fresh public key and a valid proof for exactly these fields
     */
    public static Message.MigrateRequest request(ClientSession s, long seq, InetSocketAddress origin,
                                                 InetSocketAddress destination, long downReceived, long credit) {
        byte[] pub = X25519.ephemeral().publicKey();
        return new Message.MigrateRequest(s.id().clone(), origin, destination, downReceived, credit, seq, pub,
                Proofs.migrationProof(s.key(), s.id(), seq, origin, destination, downReceived, credit, pub));
    }

    /** A migration of a session, held by a test to read its state after it ended. */
    public static final class Held {
        private final ClientMigration m;

        Held(ClientMigration m) {
            this.m = m;
        }

        /** @return its state now */
        public String state() {
            return m.state().name();
        }
    }

    /** @return the migration under way, or {@code null} */
    public static Held migration(ClientSession s) {
        ClientMigration m = s.migration();
        return m == null ? null : new Held(m);
    }

    /** @return the session's input, reads waiting at most {@code timeoutMillis} (0: no limit); closing it closes the session */
    public static InputStream input(ClientSession s, int timeoutMillis) {
        return new SessionInputStream(s, () -> timeoutMillis);
    }

    /** @return the session's output; closing it closes the session */
    public static OutputStream output(ClientSession s) {
        return new SessionOutputStream(s);
    }

    /** Migrates as the application would ({@code MtcpOptions.MIGRATE}). */
    public static void migrate(ClientSession s, InetSocketAddress to) throws IOException {
        s.migrate(to, MigrationEvent.Initiation.CLIENT, 20_000);
    }
}
