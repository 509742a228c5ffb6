package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.FreePorts;
import org.mtcp.server.testkit.KernelKill;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The soak (the robustness issue), outside the default run: three servers in JVMs of their own that TRIGGER
 * their sessions to each other at random, clients in this JVM that echo byte-exact and migrate at random, and a
 * chaos thread that kills connections ({@code ss -K}, as root) and now and then a whole server process
 * ({@code SIGKILL}), which it starts again on the same ports. A session on a killed server is lost by design
 * (its state lived there): its client gets a clear error and opens a new session. Prints migrations, resumes,
 * bytes verified and failures by kind, and fails on any wrong byte or any session lost without a server kill.
 *
 * <pre>
 * ./mvnw -B -q install -DskipTests
 * ./mvnw -B -pl mtcp-server surefire:test -Dtest=SoakTest -Dmtcp.soak.seconds=180
 * </pre>
 */
@EnabledIfSystemProperty(named = "mtcp.soak.seconds", matches = "\\d+")
class SoakTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final int SERVERS = 3;
    private static final int CLIENTS = Integer.getInteger("mtcp.soak.clients", 40);
    private static final int ROUND = 16 * 1024;

    /** A soak server: args = index, then every service port, then every control port. */
    static final class Server {
        public static void main(String[] args) throws Exception {
            int me = Integer.parseInt(args[0]);
            int n = (args.length - 1) / 2;
            List<InetSocketAddress> service = new ArrayList<>();
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                InetSocketAddress a = new InetSocketAddress(LO, Integer.parseInt(args[1 + i]));
                service.add(a);
                mappings.put(a, new InetSocketAddress(LO, Integer.parseInt(args[1 + n + i])));
            }
            List<InetSocketAddress> others = new ArrayList<>(service);
            others.remove(me);
            MtcpServerSocket server = new MtcpServerSocket();
            server.setReuseAddress(true);
            server.bind(service.get(me), 200);
            server.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            server.setOption(MtcpOptions.ADDITIONAL_SERVERS, others);
            server.setOption(MtcpOptions.RESUME_GRACE, Duration.ofSeconds(10));
            System.out.println("READY");
            while (true) {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s, others), "app");
                t.setDaemon(true);
                t.start();
            }
        }

        /** The transforming echo, exporting after every read, that triggers a move now and then. */
        private static void serve(Socket s, List<InetSocketAddress> others) {
            try (s) {
                long n = Apps.importCount(s);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] buf = new byte[8192];
                while (true) {
                    int r = in.read(buf);
                    if (r < 0) {
                        return;
                    }
                    for (int k = 0; k < r; k++) {
                        buf[k] = Apps.transform(buf[k], n + k);
                    }
                    out.write(buf, 0, r);
                    n += r;
                    Apps.exportCount(s, n, 64);
                    if (ThreadLocalRandom.current().nextInt(400) == 0) {
                        s.setOption(MtcpOptions.TRIGGER, others.get(ThreadLocalRandom.current().nextInt(others.size())));
                    }
                }
            } catch (IOException e) {
                // moved away (ConnectionMigratedException), or its client is gone: this copy is done
            }
        }
    }

    @Test
    void soak() throws Exception {
        long seconds = Long.getLong("mtcp.soak.seconds");
        long seed = Long.getLong("mtcp.test.seed", System.nanoTime());
        boolean root = KernelKill.available();
        int[] service = FreePorts.of(SERVERS);
        int[] control = FreePorts.of(SERVERS);
        List<String> ports = new ArrayList<>();
        for (int p : service) {
            ports.add(String.valueOf(p));
        }
        for (int p : control) {
            ports.add(String.valueOf(p));
        }
        Process[] servers = new Process[SERVERS];
        for (int i = 0; i < SERVERS; i++) {
            servers[i] = startServer(i, ports);
        }
        // a server kill is in the books before its process dies: a session that names that server in its failure
        // within a minute is explained by it (the client tries to resume for mtcp.resumeGraceMillis first)
        Map<Integer, Long> killedAt = new ConcurrentHashMap<>();
        LongAdder bytes = new LongAdder();
        LongAdder sessions = new LongAdder();
        Map<String, LongAdder> failures = new ConcurrentHashMap<>();
        Map<String, String> examples = new ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicLong unreachableAfterKill = new java.util.concurrent.atomic.AtomicLong(-1);
        LongAdder migrations = new LongAdder();
        LongAdder resumes = new LongAdder();
        LongAdder linkKills = new LongAdder();
        LongAdder serverKills = new LongAdder();
        List<MtcpSocket> live = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int me = c;
            Thread t = new Thread(() -> {
                Random r = new Random(seed + me);
                while (!stop.get()) {
                    MtcpSocket s;
                    try {
                        s = new MtcpSocket(LO, service[r.nextInt(SERVERS)]);
                        s.setSoTimeout(60_000);
                    } catch (IOException e) {
                        sleepQuietly(100); // a server being restarted
                        continue;
                    }
                    sessions.increment();
                    live.add(s);
                    long at = 0;
                    try {
                        for (int round = 0; round < 200 && !stop.get(); round++) {
                            at = Apps.echoRoundTrip(s, at, ROUND, "session " + s.sessionId() + " (seed " + seed + ")");
                            bytes.add(2L * ROUND);
                            if (r.nextInt(30) == 0) {
                                try {
                                    s.migrate(new InetSocketAddress(LO, service[r.nextInt(SERVERS)]));
                                } catch (MigrationException e) {
                                    count(failures, e.sessionAlive() ? "migration refused, session alive (" + e.reason() + ")"
                                            : "migration lost the session (" + e.reason() + ")");
                                    examples.putIfAbsent(e.reason().toString(), e.getMessage());
                                    long sinceKill = killedAt.values().stream().mapToLong(k -> System.nanoTime() - k).min().orElse(-1);
                                    if (e.reason() == MigrationException.Reason.PEER_UNREACHABLE && sinceKill >= 0) {
                                        unreachableAfterKill.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(sinceKill), Math::max);
                                    }
                                }
                            }
                        }
                    } catch (AssertionError e) {
                        count(failures, "WRONG BYTES: " + e.getMessage());
                    } catch (IOException e) {
                        String m = String.valueOf(e.getMessage());
                        long now = System.nanoTime();
                        boolean explained = killedAt.entrySet().stream().anyMatch(k -> m.contains(":" + k.getKey())
                                && now - k.getValue() < TimeUnit.SECONDS.toNanos(60));
                        count(failures, explained ? "session lost with a killed server (expected)" : "UNEXPECTED LOSS: " + m);
                    } finally {
                        live.remove(s);
                        MigrationStatistics st = s.statistics();
                        migrations.add(st.committed());
                        resumes.add(st.resumed());
                        try {
                            s.close();
                        } catch (IOException ignored) {
                            // counted already
                        }
                    }
                }
            }, "soak-client-" + c);
            t.setDaemon(true);
            t.start();
            clients.add(t);
        }
        Random chaos = new Random(seed);
        long firstKill = Long.getLong("mtcp.soak.firstServerKillSeconds", 20);
        long nextServerKill = System.nanoTime() + TimeUnit.SECONDS.toNanos(firstKill);
        try {
            while (System.nanoTime() - end < 0) {
                Thread.sleep(200 + chaos.nextInt(400));
                if (root && !live.isEmpty()) {
                    MtcpSocket victim = live.get(chaos.nextInt(live.size()));
                    int port = victim.getLocalPort();
                    int server = victim.currentServer().getPort();
                    // both ports: an ephemeral port is shared by connections to different peers (the control connections)
                    linkKills.add(KernelKill.matching(chaos.nextBoolean() ? "sport = :" + port + " and dport = :" + server
                            : "dport = :" + port + " and sport = :" + server));
                }
                if (System.nanoTime() - nextServerKill > 0) {
                    int victim = chaos.nextInt(SERVERS);
                    killedAt.put(service[victim], System.nanoTime());
                    servers[victim].destroyForcibly();
                    servers[victim].waitFor(10, TimeUnit.SECONDS);
                    killedAt.put(service[victim], System.nanoTime());
                    serverKills.increment();
                    servers[victim] = startServer(victim, ports);
                    nextServerKill = System.nanoTime() + TimeUnit.SECONDS.toNanos(20 + chaos.nextInt(20));
                }
            }
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join(90_000);
            }
            for (Process p : servers) {
                p.destroyForcibly();
            }
        }
        long wrong = failures.entrySet().stream().filter(e -> e.getKey().startsWith("WRONG")).mapToLong(e -> e.getValue().sum()).sum();
        long unexpected = failures.entrySet().stream().filter(e -> e.getKey().startsWith("UNEXPECTED"))
                .mapToLong(e -> e.getValue().sum()).sum();
        StringBuilder report = new StringBuilder();
        report.append(String.format("SOAK %d s (seed %d): %d sessions, %d bytes verified (%.1f MiB), %d migrations committed,"
                        + " %d resumes, %d connections killed, %d server processes killed%n", seconds, seed, sessions.sum(),
                bytes.sum(), bytes.sum() / 1048576.0, migrations.sum(), resumes.sum(), linkKills.sum(), serverKills.sum()));
        report.append("failures by kind:").append(failures.isEmpty() ? " none" : "").append('\n');
        failures.forEach((k, v) -> report.append("  ").append(v.sum()).append(" x ").append(k).append('\n'));
        examples.forEach((k, v) -> report.append("  e.g. ").append(k).append(": ").append(v).append('\n'));
        if (unreachableAfterKill.get() >= 0) {
            report.append("  the last PEER_UNREACHABLE came ").append(unreachableAfterKill.get()).append(" ms after a server kill\n");
        }
        report.append("lost bytes or duplicates: ").append(wrong).append("; unexplained lost sessions: ").append(unexpected);
        System.out.println(report);
        assertEquals(0, wrong, report.toString());
        assertEquals(0, unexpected, report.toString());
        assertTrue(bytes.sum() > 0, report.toString());
    }

    private static void count(Map<String, LongAdder> failures, String kind) {
        String k = kind.length() > 200 ? kind.substring(0, 200) : kind;
        failures.computeIfAbsent(k.replaceAll("\\d+", "N"), x -> new LongAdder()).increment();
    }

    private static Process startServer(int index, List<String> ports) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Server.class.getName(), String.valueOf(index)));
        cmd.addAll(ports);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.equals("READY")) {
            System.out.println("server " + index + ": " + line);
        }
        if (line == null) {
            throw new IOException("server " + index + " did not start");
        }
        Thread drain = new Thread(() -> {
            try {
                out.transferTo(java.io.Writer.nullWriter());
            } catch (IOException ignored) {
                // gone
            }
        }, "soak-server-" + index + "-output");
        drain.setDaemon(true);
        drain.start();
        return p;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
