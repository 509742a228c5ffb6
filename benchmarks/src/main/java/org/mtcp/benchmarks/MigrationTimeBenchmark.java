package org.mtcp.benchmarks;

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
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Thesis figure 5.3 (and, through {@link PhaseRecorder}, figure 5.2): the client-observed time of
 * one migration on loopback with a warm control connection, as the exported application state
 * grows. The session moves back and forth between two servers (S1 -&gt; S2 -&gt; S1 ...); one
 * operation is one {@link MtcpSocket#migrate} call, which returns when the client is attached to
 * the new server. The server application is {@link StateApp}. Compare with {@link FloorBenchmark}
 * and, for the first migration between two servers, {@link ColdMigrationBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class MigrationTimeBenchmark {

    /** Size in bytes of the application state the server exports (and a migration carries). */
    @Param({"0", "1024", "5120", "10240", "16384", "65536", "262144", "1048576"})
    public int stateBytes;

    private final PhaseRecorder phases = new PhaseRecorder();
    private MtcpCluster cluster;
    private MtcpSocket client;
    private int at;

    /**
     * Two servers, a client on the first, and one migration each way so that both control
     * connections are open before anything is measured.
     *
     * @throws IOException when the setup fails
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        cluster = new MtcpCluster(2, new StateApp(stateBytes));
        cluster.addMigrationListener(phases);
        client = new MtcpSocket(Net.LO, cluster.service(0).getPort());
        client.setSoTimeout(Net.SO_TIMEOUT_MS);
        client.addMigrationListener(phases);
        Net.ping(client);
        at = 0;
        migrate();
        migrate();
        Net.ping(client);
    }

    /** @param params tells warm-up from measurement: only the latter is recorded */
    @Setup(Level.Iteration)
    public void iteration(IterationParams params) {
        phases.recording(params.getType() == IterationType.MEASUREMENT);
    }

    /**
     * One migration to the other server.
     *
     * @throws IOException {@link org.mtcp.api.MigrationException} when it fails
     */
    @Benchmark
    public void migrate() throws IOException {
        at ^= 1;
        InetSocketAddress to = cluster.service(at);
        client.migrate(to);
    }

    /**
     * After every iteration: the session still serves (one byte echoed by the current server).
     *
     * @throws IOException when it does not
     */
    @TearDown(Level.Iteration)
    public void check() throws IOException {
        phases.awaitServers(2000);
        phases.recording(false);
        Net.ping(client);
    }

    /** Writes the phase summary and closes everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            phases.write("warm", stateBytes);
        } finally {
            Acceptor.closeQuietly(client);
            if (cluster != null) {
                cluster.close();
            }
        }
    }
}
