package org.mtcp.internal.session;

import org.mtcp.api.MigrationEvent;
import org.mtcp.internal.buffer.ChunkPool;
import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.observe.MigrationRecorder;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.SessionState;
import org.mtcp.internal.wire.StateCodec;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Loads the classes of the migration path and runs the parts of a migration that need no connection (key
 * exchange, key schedule, proofs, the state record's codec, every migration frame's encoding and decoding, the
 * sealed control frames, the JFR event's registration) on a background thread, once per JVM, when the first
 * MTCP server starts. Otherwise the first
 * migrations a freshly started server takes part in (a deploy's drain meets exactly those) pay for loading
 * and verifying some 500 classes (Kryo's default serializers, JFR's event metadata, the JCE providers) and
 * run interpreted: the client's wait was 70-150 ms for each of the first two, against under a millisecond
 * warm. Off with {@code -Dmtcp.warmup=false}.
 */
public final class Warmup {
    private static final Logger log = LoggerFactory.getLogger(Warmup.class);
    /** Whether the first server of the JVM warms the migration path up. */
    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("mtcp.warmup", "true"));
    /** Rounds of the connection-free migration work: enough for the JIT's first tier to compile the hot parts. */
    private static final int ROUNDS = 200;
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    /**
     * A class of each package of the session layer and the API: a first migration's I/O thread loaded ~40 of their
     * classes (buffers, counters, the link's parts) while the client waited.
     */
    private static final Class<?>[] SESSION_LAYER = {FrameReader.class, ChunkPool.class, EventLoop.class,
        X25519.class, MigrationRecorder.class, MigrationEvent.class};

    private Warmup() {
    }

    /**
     * Starts the warm-up on a daemon thread, the first time only (and not at all with {@code mtcp.warmup=false}).
     *
     * @param packages a class of each package whose classes are loaded and initialized first (the caller's
     *                 migration path: the server's transfers and control connections)
     */
    public static void start(Class<?>... packages) {
        if (!ENABLED || !STARTED.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> run(packages), "mtcp-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    private static void run(Class<?>[] packages) {
        long start = System.nanoTime();
        try {
            int loaded = preload(Warmup.class);
            for (Class<?> c : packages) {
                loaded += preload(c);
            }
            log.debug("{} classes of the migration path loaded in {} ms", loaded,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            MigrationRecorder.registerJfrEvent();
            for (int i = 0; i < ROUNDS; i++) {
                round(i);
            }
            // the rest of the session layer last: a migration in the first second finds the warm-up where it
            // was without this step (loading it first made that migration ~20% slower), a later one finds it all
            for (Class<?> c : SESSION_LAYER) {
                loaded += preload(c);
            }
            log.debug("migration path warmed up in {} ms ({} rounds, {} classes)",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), ROUNDS, loaded);
        } catch (ProtocolException | RuntimeException | LinkageError e) {
            // a warm-up that fails costs the first migration its speed, nothing else
            log.debug("the warm-up of the migration path stopped: {}", e.toString());
        }
    }

    /**
     * Loads and initializes every class of {@code anchor}'s package from where {@code anchor} was loaded (a jar or
     * a directory): the classes a first migration would otherwise load one by one, interpreted, on its path.
     *
     * @return how many classes were loaded
     */
    static int preload(Class<?> anchor) {
        String dir = anchor.getPackageName().replace('.', '/') + "/";
        List<String> names = new ArrayList<>();
        try {
            CodeSource source = anchor.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return 0;
            }
            Path where = Path.of(source.getLocation().toURI());
            if (Files.isDirectory(where)) {
                try (Stream<Path> files = Files.list(where.resolve(dir))) {
                    files.map(f -> dir + f.getFileName()).forEach(names::add);
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    jar.stream().map(JarEntry::getName)
                            .filter(n -> n.startsWith(dir) && n.indexOf('/', dir.length()) < 0).forEach(names::add);
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            log.debug("cannot list the classes of {}: {}", anchor.getPackageName(), e.toString());
            return 0;
        }
        int loaded = 0;
        for (String n : names) {
            if (!n.endsWith(".class") || n.endsWith("module-info.class") || n.endsWith("package-info.class")) {
                continue;
            }
            String binary = n.substring(0, n.length() - ".class".length()).replace('/', '.');
            try {
                Class.forName(binary, true, anchor.getClassLoader());
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                log.debug("warm-up: cannot load {}: {}", binary, e.toString());
            }
        }
        return loaded;
    }

    /** One migration's worth of connection-free work; throws when a round trip does not give back what went in. */
    static void round(int i) throws ProtocolException {
        InetSocketAddress origin = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1 + i % 1000);
        InetSocketAddress destination = new InetSocketAddress(InetAddress.getLoopbackAddress(), 2001 + i % 1000);
        byte[] sessionId = new byte[Wire.SESSION_ID_SIZE];
        sessionId[0] = (byte) i;
        // the key exchange only in the first rounds: the field arithmetic loops get compiled quickly, and a
        // round of it costs about 0.3 ms of CPU even compiled
        boolean exchange = i < 8;
        X25519.Ephemeral client = exchange ? X25519.ephemeral() : null;
        X25519.Ephemeral server = exchange ? X25519.ephemeral() : null;
        byte[] clientPublic = exchange ? client.publicKey() : new byte[X25519.PUBLIC_KEY_SIZE];
        byte[] shared = exchange ? server.agree(clientPublic) : new byte[X25519.PUBLIC_KEY_SIZE];
        if (exchange && !java.util.Arrays.equals(shared, client.agree(server.publicKey()))) {
            throw new IllegalStateException("X25519 agreements differ");
        }
        byte[] key = KeySchedule.sessionKey(shared, sessionId, clientPublic);
        byte[] proof = Proofs.migrationProof(key, sessionId, i, origin, destination, i, 1 << 20, clientPublic);
        if (!Proofs.verify(key, sessionId, i, origin, destination, i, 1 << 20, clientPublic, proof)) {
            throw new IllegalStateException("a migration proof did not verify");
        }
        Message.MigrateRequest request = new Message.MigrateRequest(sessionId, origin, destination, i, 1 << 20, i,
                clientPublic, proof, MigrationEvent.Initiation.CLIENT);
        byte[] rotated = KeySchedule.rotatedKey(key, shared, Message.payload(request));

        SessionState st = new SessionState();
        st.sessionId = sessionId;
        st.key = key;
        st.migrationSeq = i;
        st.appState = new byte[64];
        st.upBytes = new byte[32];
        st.downBytes = new byte[32];
        st.upSnap = i;
        st.upResume = st.upSnap + st.upBytes.length;
        st.downSeen = i;
        st.downSnap = st.downSeen + st.downBytes.length;
        st.downSentLimit = st.downSnap;
        byte[] record = StateCodec.encode(st);
        if (!st.equals(StateCodec.decode(record, 0, record.length))) {
            throw new IllegalStateException("the state record did not decode to what was encoded");
        }
        List<InetSocketAddress> alternates = List.of(origin, destination);
        Message[] frames = {
            request,
            new Message.StateRequest(i, sessionId, i, 1 << 20, i, clientPublic, new byte[Wire.PROOF_SIZE], destination),
            new Message.StateReply(i, st),
            new Message.StateAck(i),
            migrateAck(rotated, request, destination, alternates, clientPublic, i),
            new Message.Ack(i, 1 << 20, i),
            new Message.Trigger(destination),
            new Message.Alternates(alternates),
            new Message.Moved(),
        };
        for (Message m : frames) {
            ByteBuffer b = m.encode();
            Message back = FrameReader.decodeOne(b, Wire.MAX_CONTROL_CONNECTION_PAYLOAD, "the warm-up");
            if (back.type() != m.type()) {
                throw new IllegalStateException("a " + Wire.typeName(m.type()) + " frame decoded as " + Wire.typeName(back.type()));
            }
        }
        Message.MigrateAck ack = (Message.MigrateAck) frames[4];
        if (!Proofs.verifyAck(rotated, request, ack)) {
            throw new IllegalStateException("a MIGRATE_ACK confirmation did not verify");
        }
        ControlSeal serverSeal = ControlSeal.server(rotated);
        ControlSeal clientSeal = ControlSeal.client(rotated);
        Message inner = clientSeal.open(serverSeal.seal(new Message.Trigger(destination)), "the warm-up");
        if (inner.type() != Wire.TRIGGER) {
            throw new IllegalStateException("a sealed TRIGGER opened as " + Wire.typeName(inner.type()));
        }
    }

    private static Message.MigrateAck migrateAck(byte[] rotated, Message.MigrateRequest request, InetSocketAddress server,
                                                 List<InetSocketAddress> alternates, byte[] serverPublic, long at) {
        Message.MigrateAck unconfirmed = new Message.MigrateAck(at, at, 1 << 20, server, alternates, serverPublic,
                new byte[Wire.PROOF_SIZE]);
        return new Message.MigrateAck(at, at, 1 << 20, server, alternates, serverPublic,
                Proofs.ackConfirmation(rotated, request, unconfirmed.confirmed()));
    }
}
