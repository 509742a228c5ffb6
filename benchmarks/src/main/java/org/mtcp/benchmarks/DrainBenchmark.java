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

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The deploy use case (thesis 6.2): {@link org.mtcp.server.MtcpServerSocket#drain} moves every live
 * session of one server to another. {@link #sessions} idle sessions (each served by {@link StateApp}
 * with an empty state, its application thread blocked in a read) sit on one server; one operation is
 * one drain to the other server, timed until its future completes, that is until no session is left;
 * the next drains them back. The figure to compare with is {@link #sessions} times one warm
 * {@link FloorBenchmark} choreography: a drain that runs its migrations in parallel beats the same
 * number of plain-socket migrations one after another.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 20)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DrainBenchmark {

    /** Live sessions on the drained server. */
    @Param({"1000"})
    public int sessions;

    private MtcpCluster cluster;
    private final List<MtcpSocket> clients = new ArrayList<>();
    private int at;

    /**
     * Two servers, {@link #sessions} clients on the first, each echoed once.
     *
     * @throws IOException when the setup fails
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        cluster = new MtcpCluster(2, new StateApp(0));
        for (int i = 0; i < sessions; i++) {
            MtcpSocket c = new MtcpSocket(Net.LO, cluster.service(0).getPort());
            c.setSoTimeout(Net.SO_TIMEOUT_MS);
            clients.add(c);
            Net.ping(c);
        }
        at = 0;
    }

    /**
     * Drains the server that holds the sessions to the other one.
     *
     * @return the number of sessions the drain moved
     * @throws IOException when the drain fails, times out or moves fewer sessions than there are
     */
    @Benchmark
    public int drain() throws IOException {
        int from = at;
        at ^= 1;
        int moved;
        try {
            moved = cluster.server(from).drain(cluster.service(at)).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("drain of " + sessions + " sessions from " + cluster.service(from) + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (moved != sessions) {
            throw new IOException("drain from " + cluster.service(from) + " moved " + moved + " of " + sessions + " sessions");
        }
        return moved;
    }

    /**
     * After every drain: every session is served by the server it was drained to.
     *
     * @throws IOException when one is not
     */
    @TearDown(Level.Iteration)
    public void check() throws IOException {
        for (MtcpSocket c : clients) {
            Net.ping(c);
            if (!cluster.service(at).equals(c.currentServer())) {
                throw new IOException("a session is at " + c.currentServer() + " after a drain to " + cluster.service(at));
            }
        }
    }

    /** Closes every client and both servers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        for (MtcpSocket c : clients) {
            Acceptor.closeQuietly(c);
        }
        if (cluster != null) {
            cluster.close();
        }
    }
}
