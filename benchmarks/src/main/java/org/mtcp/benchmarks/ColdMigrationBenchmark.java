package org.mtcp.benchmarks;

import org.mtcp.client.MtcpSocket;
import org.mtcp.server.DevCertificates;
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
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

/**
 * The first migration between a pair of servers: the destination has no control connection to the
 * origin yet and opens it lazily (thesis 4.2.1) on the way. Every measured shot gets a fresh pair of
 * servers and a fresh client (JMH single-shot mode, one migration per iteration). Before the shots,
 * {@value #JIT_WARMUP_MIGRATIONS} warm migrations between another pair compile the migration path,
 * so that a shot measures what is cold about a new pair of servers (the lazy control connection,
 * first-use paths), not the interpreter. Compare with {@link MigrationTimeBenchmark} (warm control
 * connection) and {@link FloorBenchmark}. {@link #control} {@code tls} measures the same with TLS control
 * connections: the difference is the cost of the TLS handshake at a pair's first control connection.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 40)
@Measurement(iterations = 60)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ColdMigrationBenchmark {

    /** Size in bytes of the application state the server exports (and the migration carries). */
    @Param({"0", "1024", "5120", "10240", "16384", "65536", "262144", "1048576"})
    public int stateBytes;

    /**
     * The control connection: {@code plain} (loopback TCP) or {@code tls} ({@code CONTROL_TLS}: TLS 1.3
     * with mutual authentication, so that a shot's lazy control connection includes the full handshake,
     * both certificates checked; fresh ports each shot, so no session is resumed).
     */
    @Param({"plain", "tls"})
    public String control;

    /** Warm migrations run once per fork before the shots, to compile the migration path. */
    public static final int JIT_WARMUP_MIGRATIONS = 3000;

    /** With TLS, fresh pairs migrated once each before the shots, to compile the handshake as well. */
    public static final int TLS_WARMUP_PAIRS = 200;

    private final PhaseRecorder phases = new PhaseRecorder();
    private MtcpCluster cluster;
    private MtcpSocket client;
    /** The servers' CONTROL_TLS, or {@code null} for plain. */
    private SSLContext[] tls;

    /**
     * Compiles the migration path: {@value #JIT_WARMUP_MIGRATIONS} migrations back and forth between
     * a pair of servers that is then closed (not recorded).
     *
     * @throws IOException when a migration fails
     */
    @Setup(Level.Trial)
    public void compileMigrationPath() throws IOException {
        tls = "tls".equals(control) ? developmentTls() : null;
        try (MtcpCluster warm = new MtcpCluster(2, new StateApp(stateBytes), tls);
             MtcpSocket c = new MtcpSocket(Net.LO, warm.service(0).getPort())) {
            c.setSoTimeout(Net.SO_TIMEOUT_MS);
            Net.ping(c);
            long end = System.nanoTime() + 20_000_000_000L;
            for (int i = 0; i < JIT_WARMUP_MIGRATIONS && System.nanoTime() < end; i++) {
                c.migrate(warm.service((i + 1) % 2));
            }
            Net.ping(c);
        }
        long end = System.nanoTime() + 20_000_000_000L;
        for (int i = 0; tls != null && i < TLS_WARMUP_PAIRS && System.nanoTime() < end; i++) {
            try (MtcpCluster pair = new MtcpCluster(2, new StateApp(stateBytes), tls);
                 MtcpSocket c = new MtcpSocket(Net.LO, pair.service(0).getPort())) {
                c.setSoTimeout(Net.SO_TIMEOUT_MS);
                Net.ping(c);
                c.migrate(pair.service(1));
                Net.ping(c);
            }
        }
    }

    /** @return a CONTROL_TLS for each of two servers on loopback (named {@code localhost} in the mappings), from a development CA made now */
    static SSLContext[] developmentTls() throws IOException {
        try {
            DevCertificates.Issued ca = DevCertificates.authority("benchmark CA", Duration.ofDays(1));
            SSLContext[] out = new SSLContext[2];
            for (int i = 0; i < 2; i++) {
                out[i] = DevCertificates.context(DevCertificates.node(ca, "s" + i, List.of("ip:127.0.0.1", "dns:localhost"),
                        Duration.ofDays(1)), ca);
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make the benchmark's certificates: " + e.getMessage(), e);
        }
    }

    /**
     * A fresh pair of servers and a client that has exchanged one byte with the first.
     *
     * @param params tells warm-up from measurement: only the latter is recorded
     * @throws IOException when the setup fails
     */
    @Setup(Level.Iteration)
    public void freshPair(IterationParams params) throws IOException {
        cluster = new MtcpCluster(2, new StateApp(stateBytes), tls);
        cluster.addMigrationListener(phases);
        client = new MtcpSocket(Net.LO, cluster.service(0).getPort());
        client.setSoTimeout(Net.SO_TIMEOUT_MS);
        client.addMigrationListener(phases);
        Net.ping(client);
        phases.recording(params.getType() == IterationType.MEASUREMENT);
    }

    /**
     * The first migration from server 0 to server 1.
     *
     * @throws IOException {@link org.mtcp.api.MigrationException} when it fails
     */
    @Benchmark
    public void migrateCold() throws IOException {
        client.migrate(cluster.service(1));
    }

    /**
     * Checks that the session serves on the destination, then closes the pair.
     *
     * @throws IOException when the session does not serve
     */
    @TearDown(Level.Iteration)
    public void closePair() throws IOException {
        try {
            phases.awaitServers(2000);
            phases.recording(false);
            Net.ping(client);
        } finally {
            Acceptor.closeQuietly(client);
            cluster.close();
        }
    }

    /** Writes the phase summary. */
    @TearDown(Level.Trial)
    public void tearDown() {
        phases.write("plain".equals(control) ? "cold" : "cold-" + control, stateBytes);
    }
}
