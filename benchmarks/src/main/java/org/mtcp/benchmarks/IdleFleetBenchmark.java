package org.mtcp.benchmarks;

import org.mtcp.benchmarks.IdleServer.Usage;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;

/**
 * What {@link IdleCostBenchmark} and {@link IdleSessionsBenchmark} share: an {@link IdleFleet} (this JVM's
 * clients, an {@link IdleServer} child JVM), {@value #KEPT} sessions opened at the start and kept, and per
 * shot a baseline of both ends, a batch of idle sessions opened (the score), both ends measured again
 * into the {@link Idle} secondary metrics, and the batch closed. Each subclass is a benchmark of its own
 * (JMH runs the inherited methods with the subclass's parameters and settings).
 */
@State(Scope.Benchmark)
public abstract class IdleFleetBenchmark {
    /** Sessions opened before the baseline and kept: the first session's one-time costs are not counted. */
    static final int KEPT = 32;

    private IdleFleet fleet;
    private int batch;
    private Usage clientBefore;
    private Usage serverBefore;

    /**
     * @return the fleet of this benchmark's trial (its server JVM started)
     * @throws IOException when the server JVM cannot be started
     */
    protected abstract IdleFleet newFleet() throws IOException;

    /** @return idle sessions to open per shot */
    protected abstract int sessions();

    /** The results of one shot, as JMH secondary metrics. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Idle {
        /** Heap + direct bytes per idle session, client JVM. */
        public double clientBytesPerSession;
        /** Heap + direct bytes per idle session, server JVM. */
        public double serverBytesPerSession;
        /** Direct-buffer bytes per idle session, client JVM. */
        public double clientDirectPerSession;
        /** Direct-buffer bytes per idle session, server JVM. */
        public double serverDirectPerSession;
        /** Threads of the client process with the sessions open. */
        public double clientThreads;
        /** Threads of the server process with the sessions open. */
        public double serverThreads;
        /** Java threads of the server JVM with the sessions open. */
        public double serverJavaThreads;
        /** Free chunks in the client JVM's pool of the library (not counted above). */
        public double clientPooledChunks;
        /** Free chunks in the server JVM's pool of the library (not counted above). */
        public double serverPooledChunks;
        /** Sessions open during the measurement. */
        public double sessionsHeld;
        /** Sessions opened in the shot: {@code sessions}, or fewer where the open-file limits allow fewer. */
        public double sessionsOpened;
    }

    /**
     * Starts the server JVM and opens the {@value #KEPT} kept sessions.
     *
     * @throws IOException when either fails
     */
    @Setup(Level.Trial)
    public void start() throws IOException {
        fleet = newFleet();
        fleet.openKept(KEPT);
        fleet.measureClient(); // settles: the first collections of a JVM leave more behind than the later ones
        batch = fleet.batchSize(sessions());
    }

    /**
     * Measures both ends before the shot.
     *
     * @throws IOException when the server JVM does not answer
     */
    @Setup(Level.Iteration)
    public void baseline() throws IOException {
        clientBefore = fleet.measureClient();
        serverBefore = fleet.measureServer();
    }

    /**
     * Opens the batch: established, idle sessions.
     *
     * @return the sessions open now
     * @throws IOException when a session cannot be opened
     */
    @Benchmark
    public int open() throws IOException {
        fleet.openBatch(batch);
        return fleet.size();
    }

    /**
     * Measures both ends with the batch open, fills the counters, closes the batch.
     *
     * @param idle the counters
     * @throws IOException when the server JVM does not answer or holds another number of sessions
     */
    @TearDown(Level.Iteration)
    public void measure(Idle idle) throws IOException {
        record(fleet, batch, clientBefore, serverBefore, idle);
        fleet.closeBatch();
    }

    private static void record(IdleFleet fleet, int sessions, Usage clientBefore, Usage serverBefore, Idle idle)
            throws IOException {
        Usage c = fleet.measureClient();
        Usage s = fleet.measureServer();
        idle.clientBytesPerSession = (double) (c.sessionBytes() - clientBefore.sessionBytes()) / sessions;
        idle.serverBytesPerSession = (double) (s.sessionBytes() - serverBefore.sessionBytes()) / sessions;
        idle.clientDirectPerSession = (double) (c.sessionDirect() - clientBefore.sessionDirect()) / sessions;
        idle.serverDirectPerSession = (double) (s.sessionDirect() - serverBefore.sessionDirect()) / sessions;
        idle.clientPooledChunks = c.pooled();
        idle.serverPooledChunks = s.pooled();
        idle.clientThreads = c.threads();
        idle.serverThreads = s.threads();
        idle.serverJavaThreads = s.javaThreads();
        idle.sessionsHeld = fleet.size();
        idle.sessionsOpened = sessions;
        System.out.printf("idle: %d sessions held (%d per shot): client %.0f B/session (direct %.0f), %d threads;"
                        + " server %.0f B/session (direct %.0f), %d threads (%d Java); free pooled chunks: client %d, server %d%n",
                fleet.size(), sessions, idle.clientBytesPerSession, idle.clientDirectPerSession, c.threads(),
                idle.serverBytesPerSession, idle.serverDirectPerSession, s.threads(), s.javaThreads(), c.pooled(), s.pooled());
    }

    /** Closes every session and stops the server JVM. */
    @TearDown(Level.Trial)
    public void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }
}
