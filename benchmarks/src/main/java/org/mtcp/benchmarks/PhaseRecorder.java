package org.mtcp.benchmarks;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Collects the phase timings of thesis figure 5.2 from the {@link MigrationEvent}s of the client and
 * both servers while JMH measures (warm-up iterations are not recorded), and writes one summary per
 * fork as CSV lines into {@code <results>/phases/} beside the JMH results:
 * <pre>benchmark,stateBytes,pid,metric,count,meanUs,p50Us,p90Us,p99Us</pre>
 * where {@code metric} is a {@link MigrationEvent.Phase} name, {@code CLIENT_TOTAL} (the sum of the
 * client's phases) or {@code FAILED} (count only).
 */
public final class PhaseRecorder implements MigrationListener {

    /** System property (or environment variable {@code MTCP_BENCH_OUT}) naming the results directory. */
    public static final String OUT_PROPERTY = "mtcp.bench.out";

    /** Header line of the CSV files. */
    public static final String HEADER = "benchmark,stateBytes,pid,metric,count,meanUs,p50Us,p90Us,p99Us";

    private final Map<MigrationEvent.Phase, Samples> phases = new EnumMap<>(MigrationEvent.Phase.class);
    private final Samples clientTotal = new Samples();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicReference<MigrationEvent> firstFailure = new AtomicReference<>();
    private final Map<MigrationEvent.Role, AtomicInteger> committed = new EnumMap<>(MigrationEvent.Role.class);
    private volatile boolean recording;

    /** A recorder that records nothing until {@link #recording(boolean)}. */
    public PhaseRecorder() {
        for (MigrationEvent.Phase p : MigrationEvent.Phase.values()) {
            phases.put(p, new Samples());
        }
        for (MigrationEvent.Role r : MigrationEvent.Role.values()) {
            committed.put(r, new AtomicInteger());
        }
    }

    /** @param on whether events are recorded (true during measurement iterations) */
    public void recording(boolean on) {
        recording = on;
    }

    @Override
    public void onMigration(MigrationEvent event) {
        if (!event.committed()) {
            failed.incrementAndGet();
            if (firstFailure.compareAndSet(null, event)) {
                System.err.println("bench: migration failed: " + event);
                event.failure().printStackTrace();
            }
            return;
        }
        committed.get(event.role()).incrementAndGet();
        if (!recording) {
            return;
        }
        event.phaseNanos().forEach((phase, nanos) -> phases.get(phase).add(nanos));
        if (event.role() == MigrationEvent.Role.CLIENT) {
            clientTotal.add(event.totalNanos());
        }
    }

    /**
     * Waits (briefly) until every party has reported every committed migration the client reported:
     * the servers' events may come after the client's {@code migrate} returned.
     *
     * @param timeoutMillis how long to wait at most
     */
    public void awaitServers(long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        int c = committed.get(MigrationEvent.Role.CLIENT).get();
        while ((committed.get(MigrationEvent.Role.ORIGIN).get() < c || committed.get(MigrationEvent.Role.DESTINATION).get() < c)
                && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** @return failed migrations seen (recording or not) */
    public int failures() {
        return failed.get();
    }

    /** @return the results directory: {@value #OUT_PROPERTY}, else {@code MTCP_BENCH_OUT}, else {@code target/jmh} */
    public static Path resultsDir() {
        String dir = System.getProperty(OUT_PROPERTY);
        if (dir == null || dir.isEmpty()) {
            dir = System.getenv("MTCP_BENCH_OUT");
        }
        return Paths.get(dir == null || dir.isEmpty() ? "target/jmh" : dir);
    }

    /**
     * Appends this fork's summary to {@code <results>/phases/<benchmark>-<stateBytes>-<pid>.csv}.
     *
     * @param benchmark  a short benchmark name, e.g. {@code warm}
     * @param stateBytes the state size measured
     */
    public void write(String benchmark, int stateBytes) {
        long pid = ProcessHandle.current().pid();
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Map.Entry<MigrationEvent.Phase, Samples> e : phases.entrySet()) {
            e.getValue().line(sb, benchmark, stateBytes, pid, e.getKey().name());
        }
        clientTotal.line(sb, benchmark, stateBytes, pid, "CLIENT_TOTAL");
        sb.append(benchmark).append(',').append(stateBytes).append(',').append(pid).append(",FAILED,")
                .append(failed.get()).append(",0,0,0,0\n");
        Path dir = resultsDir().resolve("phases");
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(benchmark + "-" + stateBytes + "-" + pid + ".csv"),
                    sb.toString().getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A growable array of nanosecond samples. */
    private static final class Samples {
        private long[] v = new long[1024];
        private int n;

        synchronized void add(long nanos) {
            if (n == v.length) {
                v = Arrays.copyOf(v, n * 2);
            }
            v[n++] = nanos;
        }

        synchronized void line(StringBuilder sb, String benchmark, int stateBytes, long pid, String metric) {
            if (n == 0) {
                return;
            }
            long[] s = Arrays.copyOf(v, n);
            Arrays.sort(s);
            double sum = 0;
            for (long x : s) {
                sum += x;
            }
            sb.append(benchmark).append(',').append(stateBytes).append(',').append(pid).append(',').append(metric)
                    .append(',').append(n)
                    .append(',').append(us(sum / n))
                    .append(',').append(us(pct(s, 0.50)))
                    .append(',').append(us(pct(s, 0.90)))
                    .append(',').append(us(pct(s, 0.99))).append('\n');
        }

        private static double pct(long[] sorted, double p) {
            int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
            return sorted[i];
        }

        private static String us(double nanos) {
            return String.format(Locale.ROOT, "%.3f", nanos / 1000.0);
        }
    }
}
