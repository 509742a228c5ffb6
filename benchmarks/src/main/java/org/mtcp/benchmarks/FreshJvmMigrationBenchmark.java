package org.mtcp.benchmarks;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationListener;
import org.mtcp.client.MtcpSocket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The first migrations in fresh server JVMs while the session streams: what a deploy's drain meets, the
 * migration path never run in the servers' JVMs (classes not loaded, code interpreted; the control
 * connection opened ahead, as the README tells a deploy's servers). Every iteration (JMH single-shot mode,
 * one operation) launches two new server JVMs ({@link MigrationServerMain}, the same {@code java} and class
 * path as this JVM, library and JVM defaults but {@code CONTROL_OPEN_AHEAD}, see there; extra flags for them
 * from the system property {@value #SERVER_JVM_ARGS}, e.g. for profiling), connects a client in this JVM to
 * server 0, streams both ways for {@link #upMillis} ms ({@link StreamingClient}, {@link StreamingApp}: the data
 * path is warm, the migration path is not), then measures one migration:
 * <ul>
 *   <li>{@link #migration} {@code first}: server 0 to server 1, the first migration of both JVMs;</li>
 *   <li>{@link #migration} {@code second}: after that first one (not measured) and
 *       {@link StreamingMigrationBenchmark#SETTLE_BYTES} streamed on server 1 (as in
 *       {@link StreamingMigrationBenchmark#settle}), back from server 1 to server 0: the second migration,
 *       in the other direction (each JVM's first in its other role);</li>
 *   <li>{@link #migration} {@code warm}: after {@value #WARM_MIGRATIONS} migrations back and forth (not measured,
 *       each after the same settle), the next one: the same migration in the same three JVMs once the path has
 *       run, the reference the first two are compared with (what freshness costs, apart from the load).</li>
 * </ul>
 * The score is the client-observed {@link MtcpSocket#migrate} time. The client's phases of the measured
 * migrations, among them {@code CLIENT_WAIT} (waiting for the destination's answer, the figure of the issue's
 * goal), go to {@code phases/fresh-<migration>-*.csv} ({@link PhaseRecorder}); each shot's client wait and the
 * servers' phases (printed by the server JVMs) are printed after the shot. After the shot both directions must
 * move on (every byte checked exactly once); then the client is closed and both server JVMs end (they also
 * end when this JVM does: their standard input closes). The client's JVM warms up over the iterations; the
 * servers are always fresh, which is the point.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class FreshJvmMigrationBenchmark {

    /** Which migration of the fresh pair is measured: {@code first}, {@code second} or {@code warm}. */
    @Param({"first", "second", "warm"})
    public String migration;

    /** Unmeasured migrations before a {@code warm} shot's measured one (the report names the figure). */
    public static final int WARM_MIGRATIONS = 20;

    /** System property: extra JVM flags for the server JVMs, separated by spaces. */
    public static final String SERVER_JVM_ARGS = "mtcp.bench.serverJvmArgs";

    /**
     * How long the servers are up, the session streaming, before the first migration: 200 ms (the servers' warm-up
     * of the migration path, started when they bind, is still running) or 2000 ms (a server a deploy drains into
     * has usually passed a health check by then).
     */
    @Param({"200", "2000"})
    public int upMillis;

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "bench-kill-servers"));
    }

    private final PhaseRecorder phases = new PhaseRecorder();
    private final ClientEvents events = new ClientEvents();
    private final List<Server> servers = new ArrayList<>();
    private InetSocketAddress[] service;
    private MtcpSocket client;
    private StreamingClient stream;
    private InetSocketAddress target;
    private boolean measuring;

    /** The client's events: a count and the last one. */
    static final class ClientEvents implements MigrationListener {
        final AtomicInteger count = new AtomicInteger();
        final AtomicReference<MigrationEvent> last = new AtomicReference<>();

        @Override
        public void onMigration(MigrationEvent event) {
            if (event.role() == MigrationEvent.Role.CLIENT) {
                last.set(event);
                count.incrementAndGet();
            }
        }

        void await(int n, long timeoutMillis) throws IOException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (count.get() < n) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("the client reported " + count.get() + " migrations, not " + n);
                }
                Thread.onSpinWait();
            }
        }
    }

    /** A server JVM and what it printed. */
    static final class Server {
        final int index;
        final Process process;
        final CountDownLatch ready = new CountDownLatch(1);
        final Queue<String> events = new ConcurrentLinkedQueue<>();

        Server(int index, int[] ports) throws IOException {
            this.index = index;
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
            String extra = System.getProperty(SERVER_JVM_ARGS, "").trim();
            if (!extra.isEmpty()) {
                for (String a : extra.split("\\s+")) {
                    cmd.add(a.replace("{index}", Integer.toString(index)).replace("{pid}", Long.toString(ProcessHandle.current().pid())));
                }
            }
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(MigrationServerMain.class.getName());
            cmd.add(Integer.toString(index));
            for (int p : ports) {
                cmd.add(Integer.toString(p));
            }
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
            process = pb.start();
            LIVE.add(process);
            Thread t = new Thread(this::readOutput, "bench-server-" + index + "-output");
            t.setDaemon(true);
            t.start();
        }

        private void readOutput() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.equals("ready")) {
                        ready.countDown();
                    } else if (line.startsWith("event ")) {
                        events.add(line.substring(6));
                    } else {
                        System.out.println("[server " + index + "] " + line);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }

        void awaitReady(long timeoutMillis) throws IOException {
            try {
                if (!ready.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
                    throw new IOException("server JVM " + index + " not ready after " + timeoutMillis + " ms (alive: "
                            + process.isAlive() + ")");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        void stop() {
            try {
                process.getOutputStream().close(); // the server's input ends: it exits
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (IOException e) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            } finally {
                LIVE.remove(process);
            }
        }
    }

    /**
     * Two fresh server JVMs, a client on server 0 streaming both ways for {@link #upMillis} ms, and for
     * {@code second} the first migration (to server 1, not measured).
     *
     * @param params tells warm-up from measurement: only the latter is recorded
     * @throws IOException when the setup fails
     */
    @Setup(Level.Iteration)
    public void freshServers(IterationParams params) throws IOException {
        measuring = params.getType() == IterationType.MEASUREMENT;
        int[] p = Net.freePorts(4); // service0 control0 service1 control1
        service = new InetSocketAddress[]{Net.at(p[0]), Net.at(p[2])};
        servers.add(new Server(0, p));
        servers.add(new Server(1, p));
        for (Server s : servers) {
            s.awaitReady(60_000);
        }
        client = new MtcpSocket(Net.LO, service[0].getPort());
        client.setSoTimeout(Net.SO_TIMEOUT_MS);
        client.addMigrationListener(events);
        client.addMigrationListener(phases);
        events.count.set(0);
        stream = new StreamingClient(client);
        stream.awaitFlow(StreamingApp.CHUNK, 10_000, "before the first migration");
        try {
            Thread.sleep(upMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stream.checkFailure();
        target = service[1];
        for (int i = 0; i < migrationsBefore(); i++) {
            client.migrate(target);
            events.await(i + 1, 5000);
            // streams on the new server first, as a session between two migrations does (StreamingMigrationBenchmark#settle)
            stream.awaitFlow(StreamingMigrationBenchmark.SETTLE_BYTES, 10_000, "after migration " + (i + 1));
            target = target == service[1] ? service[0] : service[1];
        }
        phases.recording(measuring);
    }

    /**
     * The measured migration.
     *
     * @throws IOException {@link org.mtcp.api.MigrationException} when it fails
     */
    @Benchmark
    public void migrate() throws IOException {
        client.migrate(target);
    }

    /**
     * Checks that both directions move on after the migration (every byte exactly once), prints the shot's
     * client wait and the servers' phases, closes the client and ends both server JVMs.
     *
     * @throws IOException when the stream does not move on or a check failed
     */
    @TearDown(Level.Iteration)
    public void stopServers() throws IOException {
        try {
            events.await(migrationsBefore() + 1, 5000);
            phases.recording(false);
            stream.awaitFlow(4L * StreamingApp.CHUNK, 10_000, "after the measured migration");
            MigrationEvent e = events.last.get();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%nfresh-jvm %s migration%s: client total %.0f us, CLIENT_WAIT %.0f us, prepare %.0f us, complete %.0f us",
                    migration, measuring ? "" : " (warm-up)", e.totalNanos() / 1e3, e.phaseNanos(MigrationEvent.Phase.CLIENT_WAIT) / 1e3,
                    e.phaseNanos(MigrationEvent.Phase.CLIENT_PREPARE) / 1e3, e.phaseNanos(MigrationEvent.Phase.CLIENT_COMPLETE) / 1e3));
            awaitServerEvents();
            for (Server s : servers) {
                // a warm shot's earlier migrations are not printed: each server's last event is the measured one's
                int skip = "warm".equals(migration) ? s.events.size() - 1 : 0;
                for (String line : s.events) {
                    if (skip-- <= 0) {
                        sb.append(String.format(Locale.ROOT, "%n  server %d: %s", s.index, line));
                    }
                }
            }
            System.out.println(sb);
        } finally {
            if (stream != null) {
                stream.close();
            }
            Acceptor.closeQuietly(client);
            for (Server s : servers) {
                s.stop();
            }
            servers.clear();
        }
    }

    /** @return how many unmeasured migrations come before the measured one */
    private int migrationsBefore() {
        switch (migration) {
            case "first":
                return 0;
            case "second":
                return 1;
            case "warm":
                return WARM_MIGRATIONS;
            default:
                throw new IllegalArgumentException("migration must be first, second or warm, not " + migration);
        }
    }

    /** Gives the server JVMs a moment to print their events (2 per migration), at most a second. */
    private void awaitServerEvents() {
        int want = 2 * (migrationsBefore() + 1);
        long deadline = System.nanoTime() + 1_000_000_000L;
        while (servers.stream().mapToInt(s -> s.events.size()).sum() < want && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Writes the client's phase summary of the measured migrations. */
    @TearDown(Level.Trial)
    public void tearDown() {
        phases.write("fresh-" + migration + "-" + upMillis, StreamingApp.STATE_BYTES);
    }
}
