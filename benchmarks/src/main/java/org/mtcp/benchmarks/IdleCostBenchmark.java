package org.mtcp.benchmarks;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
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
 *   <li>{@code sessionsHeld}: sessions open during the measurement (the batch plus {@value IdleFleetBenchmark#KEPT} opened at
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
public class IdleCostBenchmark extends IdleFleetBenchmark {
    /** Options of the server JVM: the heap of this JVM's fork. */
    static final String[] SERVER_JVM = {"-Xms1g", "-Xmx1g"};

    /** {@code mtcp} ({@code MtcpSocket} to {@code MtcpServerSocket}) or {@code plain} ({@code Socket} to {@code ServerSocket}). */
    @Param({"plain", "mtcp"})
    public String kind;

    /** Idle sessions opened per shot. */
    @Param({"2000"})
    public int sessions;

    @Override
    protected IdleFleet newFleet() throws IOException {
        return new IdleFleet("mtcp".equals(kind), SERVER_JVM);
    }

    @Override
    protected int sessions() {
        return sessions;
    }
}
