package org.mtcp.benchmarks;

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

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * The cold counterpart of {@link FloorBenchmark}, for {@link ColdMigrationBenchmark}: a fresh pair of
 * plain servers per shot, and the destination opens its control connection to the origin on the
 * first request (a TCP connect more on the critical path). Same single-shot settings and JIT
 * warm-up as the MTCP cold benchmark: what a fresh pair of servers costs without any library.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 40)
@Measurement(iterations = 60)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ColdFloorBenchmark {

    /** Size of the state pulled over the control connection. */
    @Param({"0", "1024", "5120", "10240", "16384", "65536", "262144", "1048576"})
    public int stateBytes;

    private final byte[] request = new byte[64];
    private final byte[] reply = new byte[64];
    private FloorBenchmark.FloorServer origin;
    private FloorBenchmark.FloorServer destination;
    private Socket current;

    /**
     * Compiles the plain-socket path as {@link ColdMigrationBenchmark} compiles the MTCP one:
     * {@value ColdMigrationBenchmark#JIT_WARMUP_MIGRATIONS} warm floor operations first.
     *
     * @throws IOException when loopback fails
     */
    @Setup(Level.Trial)
    public void compilePath() throws IOException {
        FloorBenchmark warm = new FloorBenchmark();
        warm.stateBytes = stateBytes;
        warm.setUp();
        try {
            for (int i = 0; i < ColdMigrationBenchmark.JIT_WARMUP_MIGRATIONS; i++) {
                warm.migrate();
            }
        } finally {
            warm.tearDown();
        }
    }

    /**
     * A fresh pair; the client is attached to the origin; no control connection yet.
     *
     * @throws IOException when loopback fails
     */
    @Setup(Level.Iteration)
    public void freshPair() throws IOException {
        origin = new FloorBenchmark.FloorServer(stateBytes);
        destination = new FloorBenchmark.FloorServer(stateBytes);
        origin.connectControl(destination); // the origin's own first request below needs one
        destination.peer = origin;
        current = open(origin);
    }

    /**
     * The first floor "migration" to the destination (control connect included).
     *
     * @return the new connection
     * @throws IOException when loopback fails
     */
    @Benchmark
    public Socket migrateCold() throws IOException {
        Socket next = open(destination);
        current.close();
        current = next;
        return next;
    }

    private Socket open(FloorBenchmark.FloorServer to) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(Net.SO_TIMEOUT_MS);
        s.connect(Net.at(to.service.getLocalPort()));
        s.getOutputStream().write(request);
        Net.readFully(s.getInputStream(), reply, reply.length);
        return s;
    }

    /** Closes the pair. */
    @TearDown(Level.Iteration)
    public void closePair() {
        Acceptor.closeQuietly(current);
        origin.closing = true;
        destination.closing = true;
        origin.close();
        destination.close();
    }
}
