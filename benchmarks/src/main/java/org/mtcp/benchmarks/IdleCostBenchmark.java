package org.mtcp.benchmarks;

import org.mtcp.benchmarks.IdleServer.Usage;
import org.openjdk.jmh.annotations.AuxCounters;
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
import java.util.concurrent.TimeUnit;

/**
 * Memory of an idle session, per end: heap and direct buffers that {@code sessions} established, idle
 * sessions add to the client JVM (this one) and to the server JVM (an {@link IdleServer} child,
 * which holds its sessions without a thread per session), divided by {@code sessions}; for MTCP and,
 * as the floor, for plain {@code java.net} sockets. Library defaults throughout.
 *
 * <p>One shot opens {@code sessions} sessions (each connects, echoes one byte, and is left idle):
 * the score is the time of that. Before the shot, and after it, both JVMs run full collections and
 * measure ({@link Usage#measure()}); the results are secondary metrics (JMH aux counters):
 * <ul>
 *   <li>{@code clientBytesPerSession}, {@code serverBytesPerSession}: (heap + direct after - before) / sessions;</li>
 *   <li>{@code clientDirectPerSession}, {@code serverDirectPerSession}: the direct-buffer part of those;</li>
 *   <li>{@code clientThreads}, {@code serverThreads}: threads of each process ({@code /proc/PID/task}) with the
 *       sessions open, {@code serverJavaThreads} the server's Java threads;</li>
 *   <li>{@code sessionsHeld}: sessions open during the measurement (the batch plus {@value #KEPT} opened at
 *       the start of the trial, which are in the baseline); {@code sessionsOpened}: the batch;</li>
 *   <li>{@code clientPooledChunks}, {@code serverPooledChunks}: free 16 KiB chunks in the library's process-wide
 *       buffer pool, which belong to no session and are left out of the bytes above ({@link Usage}).</li>
 * </ul>
 * After each shot the batch is closed. The numbers are measurements, not assertions.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class IdleCostBenchmark {
    /** Options of the server JVM: the heap of this JVM's fork. */
    static final String[] SERVER_JVM = {"-Xms1g", "-Xmx1g"};
    /** Sessions opened before the baseline and kept: the first session's one-time costs are not counted. */
    static final int KEPT = 32;

    /** {@code mtcp} ({@code MtcpSocket} to {@code MtcpServerSocket}) or {@code plain} ({@code Socket} to {@code ServerSocket}). */
    @Param({"plain", "mtcp"})
    public String kind;

    /** Idle sessions opened per shot. */
    @Param({"2000"})
    public int sessions;

    private IdleFleet fleet;
    private int batch;
    private Usage clientBefore;
    private Usage serverBefore;

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
        fleet = new IdleFleet("mtcp".equals(kind), SERVER_JVM);
        fleet.openKept(KEPT);
        fleet.measureClient(); // settles: the first collections of a JVM leave more behind than the later ones
        batch = fleet.batchSize(sessions);
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
     * Opens the batch: {@code sessions} established, idle sessions.
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

    static void record(IdleFleet fleet, int sessions, Usage clientBefore, Usage serverBefore, Idle idle)
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
