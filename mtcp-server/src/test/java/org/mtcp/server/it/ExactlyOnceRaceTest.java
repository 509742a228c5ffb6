package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.internal.testkit.Seeds;
import org.mtcp.server.testkit.Waits;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly once, in order, both ways, whatever the timing: several clients stream megabytes through a
 * deterministic transforming echo on three servers while the test migrates them at random, from the
 * client (MIGRATE) and from the server (TRIGGER), concurrently. Every byte is checked both ways and an
 * end-to-end hash compared. The seed of the streams and of the migrations is printed, and put in
 * every failure; {@code -Dmtcp.test.seed=N} replays the choices (not the timing).
 */
class ExactlyOnceRaceTest {
    private static final int CLIENTS = 4;
    private static final int BYTES = 12 * 1024 * 1024;
    private static final int MAX_CHAOS_ROUNDS = Integer.getInteger("mtcp.test.chaosRounds", 3000);

    @RegisterExtension
    final Seeds seeds = new Seeds();

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void everyByteOnceInOrderUnderRandomMigrations() throws Exception {
        long seed = seeds.seed();
        System.out.println("ExactlyOnceRaceTest: " + seeds.describe());
        Random random = new Random(seed);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (Cluster cluster = new Cluster(3, i -> Apps.transformingEcho(64 + 512 * i, 1 + i))) {
            List<MtcpSocket> clients = new ArrayList<>();
            AtomicInteger committedByClients = new AtomicInteger();
            CountDownLatch start = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(CLIENTS);
            AtomicLong[] received = new AtomicLong[CLIENTS];
            AtomicLong[] sent = new AtomicLong[CLIENTS];
            byte[][] digests = new byte[CLIENTS][];
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                MtcpSocket s = new MtcpSocket(cluster.address(c % 3).getAddress(), cluster.address(c % 3).getPort());
                s.addMigrationListener(e -> {
                    if (e.committed()) {
                        committedByClients.incrementAndGet();
                    }
                });
                s.setSoTimeout(60_000);
                clients.add(s);
                received[c] = new AtomicLong();
                sent[c] = new AtomicLong();
                long streamSeed = seed + c;
                int index = c;
                Thread writer = new Thread(() -> {
                    try {
                        start.await();
                        OutputStream out = s.getOutputStream();
                        Random r = new Random(streamSeed);
                        byte[] buf = new byte[16 * 1024];
                        long off = 0;
                        while (off < BYTES) {
                            // keep migrations and data interleaved whatever the speed of either: before
                            // its m-th MiB a writer waits (a bounded time) for m migrations to have happened
                            long mib = off >> 20;
                            Waits.until(() -> committedByClients.get() >= mib, Duration.ofSeconds(2));
                            int n = (int) Math.min(BYTES - off, 1 + r.nextInt(buf.length));
                            for (int k = 0; k < n; k++) {
                                buf[k] = Apps.streamByte(streamSeed, off + k);
                            }
                            out.write(buf, 0, n);
                            off += n;
                            sent[index].set(off);
                        }
                        s.shutdownOutput();
                    } catch (Throwable t) {
                        failure.compareAndSet(null, new AssertionError("client " + index + " writer", t));
                    }
                }, "writer-" + c);
                Thread reader = new Thread(() -> {
                    try {
                        start.await();
                        InputStream in = s.getInputStream();
                        MessageDigest md = MessageDigest.getInstance("SHA-256");
                        byte[] buf = new byte[8192];
                        long off = 0;
                        int r;
                        while ((r = in.read(buf)) >= 0) {
                            for (int k = 0; k < r; k++) {
                                byte expected = Apps.transform(Apps.streamByte(streamSeed, off + k), off + k);
                                if (buf[k] != expected) {
                                    throw new AssertionError("client " + index + ": byte " + (off + k) + " is " + buf[k]
                                            + ", expected " + expected + " (sent " + sent[index].get() + ", received " + off + ")");
                                }
                            }
                            md.update(buf, 0, r);
                            off += r;
                            received[index].set(off);
                        }
                        digests[index] = md.digest();
                    } catch (Throwable t) {
                        failure.compareAndSet(null, new AssertionError("client " + index + " reader", t));
                    } finally {
                        done.countDown();
                    }
                }, "reader-" + c);
                threads.add(writer);
                threads.add(reader);
                writer.start();
                reader.start();
            }
            start.countDown();
            AtomicInteger clientMigrations = new AtomicInteger();
            java.util.Map<String, Integer> failedReasons = new java.util.TreeMap<>();
            List<Long> migrateNanos = new java.util.concurrent.CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            AtomicInteger triggers = new AtomicInteger();
            for (int round = 0; round < MAX_CHAOS_ROUNDS && done.getCount() > 0 && failure.get() == null; round++) {
                int c = random.nextInt(CLIENTS);
                MtcpSocket s = clients.get(c);
                if (random.nextInt(3) < 2) {
                    InetSocketAddress to = cluster.address(random.nextInt(3));
                    try {
                        long m0 = System.nanoTime();
                        s.migrate(to);
                        migrateNanos.add(System.nanoTime() - m0);
                        clientMigrations.incrementAndGet();
                    } catch (MigrationException e) {
                        assertTrue(e.sessionAlive(),
                                "a failed migration must leave the session alive: " + e + " (seed " + seed + ")");
                        failedReasons.merge(e.reason() + (e.getMessage().contains("ended the session") ? " (ended)" : ""), 1, Integer::sum);
                    }
                } else {
                    Socket serving = cluster.serving(s.getLocalPort());
                    if (serving != null) {
                        try {
                            serving.setOption(MtcpOptions.TRIGGER, random.nextBoolean() ? null : cluster.address(random.nextInt(3)));
                            triggers.incrementAndGet();
                        } catch (java.io.IOException e) {
                            // the session moved away between the lookup and the trigger: fine
                        }
                    }
                }
                Thread.sleep(random.nextInt(3));
            }
            boolean finished = done.await(120, TimeUnit.SECONDS);
            if (!finished || failure.get() != null) {
                StringBuilder diag = new StringBuilder("seed " + seed + ", received " + describe(received) + "\n");
                for (MtcpSocket s : clients) {
                    diag.append("client ").append(s.debugState()).append('\n');
                }
                for (int i = 0; i < cluster.size(); i++) {
                    diag.append("server ").append(i).append(":\n").append(cluster.server(i).debugState());
                }
                throw new AssertionError((failure.get() != null ? failure.get().getMessage() : "clients did not finish") + "\n" + diag,
                        failure.get());
            }
            cluster.assertNoAppFailure();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int c = 0; c < CLIENTS; c++) {
                assertEquals(BYTES, received[c].get(), "client " + c + " received (seed " + seed + ")");
                md.reset();
                for (long i = 0; i < BYTES; i++) {
                    md.update(Apps.transform(Apps.streamByte(seed + c, i), i));
                }
                assertArrayEquals(md.digest(), digests[c], "end-to-end hash of client " + c + " (seed " + seed + ")");
                clients.get(c).close();
            }
            long committed = cluster.events.stream().filter(e -> e.role() == MigrationEvent.Role.DESTINATION && e.committed()).count();
            assertTrue(clientMigrations.get() + triggers.get() > 10 && committed > 10,
                    "too few migrations to prove anything: " + clientMigrations + " client, " + triggers + " triggers, "
                            + committed + " committed (seed " + seed + ")");
            System.out.println("ExactlyOnceRaceTest seed " + seed + ": " + clientMigrations + " client migrations, " + triggers
                    + " triggers, " + committed + " committed at destinations, failed " + failedReasons + ", "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms, slowest client migrate() "
                    + migrateNanos.stream().mapToLong(n -> n / 1_000_000).max().orElse(0) + " ms");
            for (Thread t : threads) {
                t.join(10_000);
                assertFalse(t.isAlive(), t.getName() + " did not finish (seed " + seed + ")");
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get().getMessage() + " (seed " + seed + ")", failure.get());
            }
        }
    }

    private static String describe(AtomicLong[] a) {
        StringBuilder sb = new StringBuilder();
        for (AtomicLong l : a) {
            sb.append(l.get()).append(' ');
        }
        return sb.toString();
    }
}
