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

import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A warm migration while its session streams at full speed both ways, against the same migration of an
 * idle session: the choreography of {@link MigrationTimeBenchmark} (two servers on loopback, control
 * connections opened before measuring, the session moves back and forth, one operation is one
 * {@link MtcpSocket#migrate} call), library defaults, the server application {@link StreamingApp} with its
 * {@value StreamingApp#STATE_BYTES}-byte state.
 * <ul>
 *   <li>{@link #load} {@code idle}: the session carries nothing between migrations (single-byte echoes at the
 *       iteration's end);</li>
 *   <li>{@link #load} {@code streaming}: a client thread writes {@value StreamingApp#CHUNK}-byte chunks without
 *       pause, the server application reads and checks them and its writer thread writes chunks back without
 *       pause, a client thread reads and checks those ({@link StreamingClient}): every byte exactly once, in
 *       order, across every migration. Before every migration the client reads {@link #SETTLE_BYTES} more
 *       (not measured: {@link #settle}), so each migration meets a session streaming on its server; after every
 *       iteration both directions must still move (a stall or a failed check fails the run).</li>
 * </ul>
 * SampleTime mode: JMH's JSON has the percentiles (p50, p90, p99, max) beside the mean. The phases of every
 * measured migration (client and both servers) go to {@code phases/stream-<load>-*.csv} ({@link PhaseRecorder}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class StreamingMigrationBenchmark {

    /** {@code idle} or {@code streaming} (both directions at full speed during the migrations). */
    @Param({"idle", "streaming"})
    public String load;

    /** Both directions must move on by this much after every iteration. */
    static final long FLOW_CHECK_BYTES = 4L * StreamingApp.CHUNK;

    /**
     * Bytes the client reads between two migrations: more than the client's receive window (library default
     * {@code mtcp.receiveWindow}, 1 MiB), so that it has read bytes the current server generated. System property
     * {@code mtcp.bench.settleBytes} overrides it ({@code 0}: migrations back to back).
     */
    static final long SETTLE_BYTES = Long.getLong("mtcp.bench.settleBytes",
            Integer.getInteger("mtcp.receiveWindow", 1 << 20) + 2L * StreamingApp.CHUNK);

    private final PhaseRecorder phases = new PhaseRecorder();
    private final Carried carried = new Carried();
    private StreamingApp app;
    private MtcpCluster cluster;
    private MtcpSocket client;
    private StreamingClient stream;
    private int at;
    private long serverChecked;

    /**
     * Two servers, a client on the first (streaming when {@link #load} says so), and one migration each
     * way so that both control connections are open before anything is measured.
     *
     * @throws IOException when the setup fails
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        app = new StreamingApp();
        cluster = new MtcpCluster(2, app);
        cluster.addMigrationListener(phases);
        cluster.addMigrationListener(carried);
        client = new MtcpSocket(Net.LO, cluster.service(0).getPort());
        client.setSoTimeout(Net.SO_TIMEOUT_MS);
        client.addMigrationListener(phases);
        if (streaming()) {
            stream = new StreamingClient(client);
            stream.awaitFlow(FLOW_CHECK_BYTES, 10_000, "before the first migration");
        } else {
            client.getOutputStream().write(StreamingApp.IDLE);
            client.getOutputStream().flush();
            Net.ping(client);
        }
        at = 0;
        settle();
        migrate();
        settle();
        migrate();
        check();
    }

    private boolean streaming() {
        return "streaming".equals(load);
    }

    /** @param params tells warm-up from measurement: only the latter is recorded */
    @Setup(Level.Iteration)
    public void iteration(IterationParams params) {
        phases.recording(params.getType() == IterationType.MEASUREMENT);
        carried.recording = params.getType() == IterationType.MEASUREMENT;
    }

    /**
     * Streaming: before every migration, the client reads {@link #SETTLE_BYTES} new bytes (the session streams on
     * its current server; not measured, JMH's invocation-level fixture): what a streaming session does between two
     * migrations, which in a deploy are far apart. (With {@code 0} this benchmark found a library bug, fixed since:
     * a migration requested before the destination's application had written again what the client already had
     * from the origin was refused, "client claims N bytes ..., more than were sent"; StreamingMigrationRaceTest.)
     *
     * @throws IOException when the stream fails or stalls
     */
    @Setup(Level.Invocation)
    public void settle() throws IOException {
        if (stream != null && SETTLE_BYTES > 0) {
            stream.awaitFlow(SETTLE_BYTES, 10_000, "between migrations, after " + client.statistics());
        }
    }

    /**
     * One migration to the other server.
     *
     * @throws IOException {@link org.mtcp.api.MigrationException} when it fails
     */
    @Benchmark
    public void migrate() throws IOException {
        at ^= 1;
        client.migrate(cluster.service(at));
    }

    /**
     * After every iteration: the session still serves. Streaming: no check failed on either end, and both
     * directions move on by {@value #FLOW_CHECK_BYTES} bytes within 10 s (the server's checked count too).
     * Idle: one byte echoed.
     *
     * @throws IOException when not
     */
    @TearDown(Level.Iteration)
    public void check() throws IOException {
        phases.awaitServers(2000);
        phases.recording(false);
        carried.recording = false;
        if (app.failure() != null) {
            throw new IOException("server application failed: " + app.failure(), app.failure());
        }
        if (phases.failures() > 0) {
            throw new IOException(phases.failures() + " migrations failed");
        }
        if (streaming()) {
            stream.awaitFlow(FLOW_CHECK_BYTES, 10_000, "after " + client.statistics());
            long now = app.upChecked.get();
            if (now <= serverChecked) {
                throw new IOException("the server application checked no new bytes: " + now);
            }
            serverChecked = now;
        } else {
            Net.ping(client);
        }
    }

    /** Writes the phase summary and closes everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            phases.write("stream-" + load, StreamingApp.STATE_BYTES);
            System.out.println(carried.summary("stream-" + load));
        } finally {
            if (app != null) {
                app.closing();
            }
            if (stream != null) {
                stream.close();
            }
            Acceptor.closeQuietly(client);
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /** What the measured migrations carried besides the state (the destinations' events): read log and unacknowledged output. */
    static final class Carried implements MigrationListener {
        volatile boolean recording;
        private long n;
        private long up;
        private long down;
        private long upMax;
        private long downMax;

        @Override
        public synchronized void onMigration(MigrationEvent e) {
            if (recording && e.committed() && e.role() == MigrationEvent.Role.DESTINATION) {
                n++;
                up += e.replayedBytes();
                down += e.resentBytes();
                upMax = Math.max(upMax, e.replayedBytes());
                downMax = Math.max(downMax, e.resentBytes());
            }
        }

        synchronized String summary(String what) {
            return String.format(Locale.ROOT,
                    "%n%s: %d measured migrations carried client-to-server (the read log, and what was released beyond it) mean %.1f KiB, max %.1f KiB; "
                            + "server-to-client to send again mean %.1f KiB, max %.1f KiB",
                    what, n, n == 0 ? 0.0 : up / 1024.0 / n, upMax / 1024.0, n == 0 ? 0.0 : down / 1024.0 / n, downMax / 1024.0);
        }
    }
}
