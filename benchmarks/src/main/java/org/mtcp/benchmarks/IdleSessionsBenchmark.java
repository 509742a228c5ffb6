package org.mtcp.benchmarks;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Timeout;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Many idle MTCP sessions in one server process with a fixed number of threads: one shot opens
 * {@code sessions} sessions from this JVM into an {@link IdleServer} JVM (one accept thread, the
 * library's own I/O threads, no thread per session), each established (one byte echoed) and then
 * idle. The score is the time to open them all, one after the other from one thread; the secondary
 * metrics are those of {@link IdleCostBenchmark} (bytes per session at each end, threads of each
 * process, sessions held), for {@code sessions} = 1,000 and 100,000: the thread counts are the same.
 *
 * <p>Both JVMs run with {@value #HEAP} of heap ({@code -Xms} = {@code -Xmx}), what a user holding
 * 100,000 sessions would give them; nothing of the library is tuned. Their open-file limits are
 * raised to {@value IdleFleet#NOFILE} by the benchmark ({@code prlimit}, root only); where that is
 * refused, as many sessions are opened as the limits allow, and {@code sessionsHeld} says how many. The
 * client ends are spread over {@value IdleFleet#LOCAL_ADDRESSES} loopback source addresses: one
 * address pair gives about 28,000 ephemeral ports. A run of 100,000 leaves as many client ports in
 * TIME_WAIT for a minute.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Timeout(time = 20, timeUnit = TimeUnit.MINUTES)
@Fork(value = 1, jvmArgsAppend = {"-Xms" + IdleSessionsBenchmark.HEAP, "-Xmx" + IdleSessionsBenchmark.HEAP})
public class IdleSessionsBenchmark extends IdleFleetBenchmark {
    /** Heap of both JVMs. */
    static final String HEAP = "4g";

    /** Idle sessions opened in the shot. */
    @Param({"1000", "100000"})
    public int sessions;

    @Override
    protected IdleFleet newFleet() throws IOException {
        return new IdleFleet(true, "-Xms" + HEAP, "-Xmx" + HEAP);
    }

    @Override
    protected int sessions() {
        return sessions;
    }
}
