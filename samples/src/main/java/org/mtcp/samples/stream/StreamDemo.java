package org.mtcp.samples.stream;

import org.mtcp.api.MigrationEvent;
import org.mtcp.client.SmoothedThroughputPolicy;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Reproduces the thesis's stream-server experiment (section 5.3.2, figure 5.4). For each application
 * state size it starts cooperating, degrading stream servers on loopback and downloads the stream
 * with a {@link SmoothedThroughputPolicy} moving the session to a fresh server whenever the current
 * one slows down; a last run downloads without migration. It checks every byte of every run, prints a
 * table, and writes {@code stream-trace.csv} and {@code stream-trace.png} (offset against time, one
 * curve per run, migrations marked).
 *
 * <p>Run it with {@code ./mvnw -q -pl samples exec:java} (arguments: {@code -Dexec.args="--help"}).
 * The exit status is non-zero when any run lost or corrupted a byte.
 */
public final class StreamDemo {
    /** The trace file's name in the output directory. */
    public static final String CSV_NAME = "stream-trace.csv";
    /** The plot's name in the output directory. */
    public static final String PNG_NAME = "stream-trace.png";
    /** The migrations file's name in the output directory. */
    public static final String MIGRATIONS_NAME = "stream-migrations.csv";

    private final DemoOptions options;
    private final PrintStream console;
    private RunResult warmup;

    /**
     * @param options what to run
     * @param console where progress and the table go
     */
    public StreamDemo(DemoOptions options, PrintStream console) {
        this.options = options;
        this.console = console;
    }

    /**
     * Command-line entry point.
     *
     * @param args options, see {@link DemoOptions#usage()}
     */
    public static void main(String[] args) {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // the plot is rendered off-screen
        }
        DemoOptions options;
        try {
            options = DemoOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("StreamDemo: " + e.getMessage());
            System.err.println(DemoOptions.usage());
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.println(DemoOptions.usage());
            return;
        }
        int status;
        try {
            StreamDemo demo = new StreamDemo(options, System.out);
            List<RunResult> results = demo.run();
            boolean warmupOk = demo.warmup() == null || demo.warmup().verified();
            status = warmupOk && results.stream().allMatch(RunResult::verified) ? 0 : 1;
        } catch (IOException e) {
            System.err.println("StreamDemo: " + e);
            status = 1;
        }
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Runs every download, then writes the table, the CSV files and the plot.
     *
     * @return the runs, migration runs first and the baseline last
     * @throws IOException when the servers cannot start or the output cannot be written
     */
    public List<RunResult> run() throws IOException {
        console.printf(Locale.ROOT, "MTCP stream experiment: %s stream in %s chunks, %d servers; a server sends a chunk "
                        + "every %.1f ms, slowing after %s to one every %.1f ms (over %s);%n"
                        + "policy: smoothed throughput, a=%.2f, threshold %.2f, dwell %d ms%n",
                DemoOptions.sizeLabel(options.streamBytes()), DemoOptions.sizeLabel(options.chunkBytes()),
                options.servers(), ms(options.pacing().baseDelay().toNanos()),
                DemoOptions.sizeLabel(options.pacing().degradeAfterBytes()),
                ms(options.pacing().maxDelay().toNanos()), DemoOptions.sizeLabel(options.pacing().rampBytes()),
                options.alpha(), options.threshold(), options.minDwell().toMillis());
        if (options.warmup()) {
            warmup = runWarmup();
        }
        List<RunResult> results = new ArrayList<>();
        for (int state : options.stateSizes()) {
            SmoothedThroughputPolicy policy =
                    new SmoothedThroughputPolicy(options.alpha(), options.threshold(), options.minDwell());
            results.add(runOne("migration-" + DemoOptions.sizeName(state), state, policy));
        }
        if (options.baseline()) {
            int state = options.stateSizes().isEmpty() ? 2048 : options.stateSizes().get(0);
            results.add(runOne("no-migration", state, null));
        }
        console.println();
        console.print(table(results, options.bestBytesPerSecond()));

        Files.createDirectories(options.out());
        Path csv = options.out().resolve(CSV_NAME);
        Path png = options.out().resolve(PNG_NAME);
        TraceCsv.writeTrace(csv, results);
        TraceCsv.writeMigrations(options.out().resolve(MIGRATIONS_NAME), results);
        TracePlot.writePng(png, results, options.streamBytes(), options.bestBytesPerSecond(), options.servers());
        console.println("trace: " + csv.toAbsolutePath());
        console.println("plot:  " + png.toAbsolutePath());
        boolean allVerified = true;
        for (RunResult r : results) {
            if (!r.verified()) {
                console.println(r.name() + ": " + r.verdict());
                allVerified = false;
            }
        }
        if (warmup != null && !warmup.verified()) {
            console.println("warm-up: " + warmup.verdict());
            allVerified = false;
        }
        console.println(allVerified ? "every byte of every run verified, no server failed"
                : "FAILED: see the runs above (wrong or missing bytes, or a server application failure)");
        return results;
    }

    /** @return the unrecorded warm-up download, or {@code null} when there was none (yet) */
    public RunResult warmup() {
        return warmup;
    }

    /**
     * A short download with migrations on fast servers, its result kept out of the table and the plot:
     * the first migrations of a JVM pay for class loading and compilation, tens of milliseconds that
     * would otherwise make the first measured run look slow.
     */
    private RunResult runWarmup() throws IOException {
        int state = options.stateSizes().stream().max(Integer::compare).orElse(2048);
        Duration interval = Duration.ofNanos(250_000);
        ServerPacing fast = new ServerPacing(interval, Long.MAX_VALUE, 0, interval);
        StreamRequest request = new StreamRequest(64 * 1024, options.chunkBytes());
        // explicit migrations there and back: every run of the warm-up exercises the same paths
        StreamCluster cluster = StreamCluster.start(2, state, fast, options.timeoutMillis(), line -> { });
        RunResult result;
        try {
            StreamClient client = new StreamClient(cluster.entry(), request, null, cluster::nameOf,
                    options.timeoutMillis(), "warm-up", line -> { });
            String error = null;
            try (client) {
                client.receive(request.streamBytes() / 3);
                client.socket().migrate(cluster.servers().get(1).serviceAddress());
                client.receive(2 * request.streamBytes() / 3);
                client.socket().migrate(cluster.servers().get(0).serviceAddress());
                client.receive(request.streamBytes());
            } catch (IOException e) {
                error = e.toString();
            }
            result = client.result("warm-up", state, false, error);
        } finally {
            cluster.close();
        }
        result = result.withServerFailures(failureStrings(cluster));
        console.printf(Locale.ROOT, "warm-up (not recorded): %s, %d migrations, %s%n",
                DemoOptions.sizeLabel(result.receivedBytes()), result.committedMigrations(), result.verdict());
        return result;
    }

    private RunResult runOne(String name, int stateBytes, SmoothedThroughputPolicy policy) throws IOException {
        console.printf(Locale.ROOT, "%s: state %s%s%n", name, DemoOptions.sizeLabel(stateBytes),
                policy == null ? ", no migration policy" : "");
        Consumer<String> log = line -> {
            synchronized (console) {
                console.println(line);
            }
        };
        Download d = download(name, stateBytes, options.servers(), options.pacing(), options.request(), policy, log);
        RunResult result = d.result();
        List<MigrationEvent> in = d.arrivals();
        String servers = in.isEmpty() ? "" : String.format(Locale.ROOT,
                " (destination's migration time %.2f ms on average, for %d B of state)",
                in.stream().mapToLong(MigrationEvent::totalNanos).average().orElse(0) / 1e6,
                in.stream().mapToInt(MigrationEvent::stateBytes).max().orElse(0));
        console.printf(Locale.ROOT, "%s: %s in %.2f s, %d migrations%s, %s%n", name,
                DemoOptions.sizeLabel(result.receivedBytes()), result.elapsedNanos() / 1e9,
                result.committedMigrations(), servers, result.verdict());
        return result;
    }

    /** A run's result with the migrations its destination servers reported. */
    private record Download(RunResult result, List<MigrationEvent> arrivals) {
    }

    private Download download(String name, int stateBytes, int servers, ServerPacing pacing, StreamRequest request,
                               SmoothedThroughputPolicy policy, Consumer<String> log) throws IOException {
        RunResult result;
        // fresh servers per run: every run starts on healthy servers
        StreamCluster cluster = StreamCluster.start(servers, stateBytes, pacing, options.timeoutMillis(), log);
        try {
            result = StreamClient.download(name, stateBytes, cluster, request, policy, options.timeoutMillis(), log);
        } finally {
            cluster.close();
        }
        return new Download(result.withServerFailures(failureStrings(cluster)), cluster.arrivals());
    }

    /** What the three migration times printed mean (the thesis's figure 5.2 splits them into phases). */
    static final String MIGRATION_TIMES = String.join(System.lineSeparator(),
            "client ms: the client's mean migration time, from its decision to move to the session resumed at the",
            "  destination (the \"client's migration time\" of each migration line); the destination's migration",
            "  time, from the client's request to the session reinstated, includes pulling the state from the origin",
            "");

    /**
     * @param results       the runs
     * @param bestPerSecond a healthy server's rate in bytes per second
     * @return the summary table, one line per run
     */
    static String table(List<RunResult> results, double bestPerSecond) {
        StringBuilder sb = new StringBuilder();
        String row = "%-18s %6s %10s %12s %8s %13s %8s  %s%n";
        sb.append(String.format(Locale.ROOT, row, "run", "state", "migrations", "client ms", "time", "throughput",
                "of best", "bytes"));
        for (RunResult r : results) {
            double rate = r.bytesPerSecond();
            String moves = r.failedMigrations() == 0 ? Long.toString(r.committedMigrations())
                    : r.committedMigrations() + " (+" + r.failedMigrations() + " failed)";
            sb.append(String.format(Locale.ROOT, row, r.name(), DemoOptions.sizeLabel(r.stateBytes()), moves,
                    r.committedMigrations() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", r.meanMigrationMillis()),
                    String.format(Locale.ROOT, "%.2f s", r.elapsedNanos() / 1e9),
                    String.format(Locale.ROOT, "%.1f KiB/s", rate / 1024),
                    Double.isFinite(bestPerSecond) ? String.format(Locale.ROOT, "%.0f %%", 100 * rate / bestPerSecond)
                            : "-",
                    r.verified() ? "all verified" : r.verdict()));
        }
        sb.append(MIGRATION_TIMES);
        if (Double.isFinite(bestPerSecond)) {
            sb.append(String.format(Locale.ROOT, "best server rate: %.1f KiB/s (a healthy server's chunk rate)%n",
                    bestPerSecond / 1024));
        }
        return sb.toString();
    }

    private static List<String> failureStrings(StreamCluster cluster) {
        return cluster.failures().stream().map(Exception::toString).toList();
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
