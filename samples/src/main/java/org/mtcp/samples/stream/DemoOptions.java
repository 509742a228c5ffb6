package org.mtcp.samples.stream;

import org.mtcp.client.SmoothedThroughputPolicy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The stream demo's settings: the thesis's experiment by default (256 KiB in 1 KiB chunks, states of
 * 2, 10 and 16 KiB, a = 0.4, threshold 0.7), with server speeds chosen so that the whole run takes
 * seconds on loopback.
 *
 * @param streamBytes       length of each download
 * @param chunkBytes        chunk size the servers write and snapshot after
 * @param stateSizes        application-state sizes of the migration runs, in bytes
 * @param baseline          whether to add the run without migration
 * @param warmup            whether to run an unrecorded download first, so that class loading and
 *                          JIT compilation do not land in the first measured run
 * @param servers           how many cooperating servers
 * @param pacing            how the servers write and degrade
 * @param alpha             the policy's smoothing weight
 * @param threshold         the policy's fraction of the maximum that triggers a migration
 * @param minDwell          the policy's minimum time between migrations
 * @param timeoutMillis     longest wait of any read, client or server
 * @param out               directory for the CSV and the PNG
 */
public record DemoOptions(long streamBytes, int chunkBytes, List<Integer> stateSizes, boolean baseline, boolean warmup, int servers,
                          ServerPacing pacing, double alpha, double threshold, Duration minDwell, int timeoutMillis,
                          Path out) {

    /** System property naming the default output directory (set by the Maven exec configuration). */
    public static final String OUT_PROPERTY = "stream.demo.out";

    /** Checks the values. */
    public DemoOptions {
        stateSizes = List.copyOf(stateSizes);
        new StreamRequest(streamBytes, chunkBytes); // same limits as the wire format
        for (int s : stateSizes) {
            if (s < StreamState.MIN_BYTES) {
                throw new IllegalArgumentException("state size below " + StreamState.MIN_BYTES + " bytes: " + s);
            }
        }
        if (stateSizes.isEmpty() && !baseline) {
            throw new IllegalArgumentException("nothing to run: no state sizes and no baseline");
        }
        if (servers < 1) {
            throw new IllegalArgumentException("need at least one server: " + servers);
        }
        new SmoothedThroughputPolicy(alpha, threshold, minDwell); // same limits as the policy's
        if (timeoutMillis < 1) {
            throw new IllegalArgumentException("timeout must be positive: " + timeoutMillis);
        }
    }

    /** @return the defaults */
    public static DemoOptions defaults() {
        return new DemoOptions(256 * 1024, 1024, List.of(2 * 1024, 10 * 1024, 16 * 1024), true, true, 2,
                new ServerPacing(Duration.ofMillis(4), 32 * 1024, 32 * 1024, Duration.ofMillis(24)),
                0.4, 0.7, Duration.ofMillis(100), 20_000,
                Path.of(System.getProperty(OUT_PROPERTY, "target/stream-demo")));
    }

    /** @return the usage text for {@code --help}, with the actual default output directory */
    public static String usage() {
        return USAGE.replace("[target/stream-demo]", "[" + defaults().out() + "]");
    }

    private static final String USAGE = String.join("\n",
            "usage: StreamDemo [options]   (defaults in brackets; sizes in bytes take a K suffix for KiB)",
            "  --stream SIZE          stream length                           [256K]",
            "  --chunk SIZE           chunk the servers write and snapshot    [1K]",
            "  --states LIST          state sizes of the migration runs       [2K,10K,16K]",
            "  --no-baseline          skip the run without migration",
            "  --no-warmup            skip the unrecorded warm-up download",
            "  --servers N            cooperating servers                     [2]",
            "  --base-delay MS        healthy server: one chunk every MS ms   [4]",
            "  --degrade-after SIZE   a server slows after serving SIZE       [32K]",
            "  --ramp SIZE            ... growing its delay over SIZE         [32K]",
            "  --max-delay MS         ... up to one chunk every MS ms         [24]",
            "  --alpha A              policy smoothing weight                 [0.4]",
            "  --threshold T          policy migrates below T x its maximum   [0.7]",
            "  --dwell MS             policy minimum time between migrations  [100]",
            "  --timeout MS           longest wait of any read                [20000]",
            "  --out DIR              where stream-trace.csv/.png go          [target/stream-demo]",
            "  --help                 this text");

    /**
     * @param args command-line arguments
     * @return the defaults with the arguments applied, or {@code null} for {@code --help}
     * @throws IllegalArgumentException on an unknown option or a bad value
     */
    public static DemoOptions parse(String... args) {
        DemoOptions d = defaults();
        long stream = d.streamBytes;
        int chunk = d.chunkBytes;
        List<Integer> states = d.stateSizes;
        boolean baseline = d.baseline;
        boolean warmup = d.warmup;
        int servers = d.servers;
        double baseMs = millis(d.pacing.baseDelay());
        long degradeAfter = d.pacing.degradeAfterBytes();
        long ramp = d.pacing.rampBytes();
        double maxMs = millis(d.pacing.maxDelay());
        double alpha = d.alpha;
        double threshold = d.threshold;
        double dwellMs = millis(d.minDwell);
        int timeout = d.timeoutMillis;
        Path out = d.out;
        for (int i = 0; i < args.length; i++) {
            String opt = args[i];
            if (opt.equals("--help") || opt.equals("-h")) {
                return null;
            }
            if (opt.equals("--no-baseline")) {
                baseline = false;
                continue;
            }
            if (opt.equals("--no-warmup")) {
                warmup = false;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(opt + " needs a value");
            }
            String v = args[++i];
            switch (opt) {
                case "--stream" -> stream = size(opt, v);
                case "--chunk" -> chunk = Math.toIntExact(size(opt, v));
                case "--states" -> states = sizes(opt, v);
                case "--servers" -> servers = Integer.parseInt(v);
                case "--base-delay" -> baseMs = number(opt, v);
                case "--degrade-after" -> degradeAfter = size(opt, v);
                case "--ramp" -> ramp = size(opt, v);
                case "--max-delay" -> maxMs = number(opt, v);
                case "--alpha" -> alpha = number(opt, v);
                case "--threshold" -> threshold = number(opt, v);
                case "--dwell" -> dwellMs = number(opt, v);
                case "--timeout" -> timeout = Math.toIntExact(Math.round(number(opt, v)));
                case "--out" -> out = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + opt);
            }
        }
        ServerPacing pacing = new ServerPacing(duration(baseMs), degradeAfter, ramp, duration(maxMs));
        return new DemoOptions(stream, chunk, states, baseline, warmup, servers, pacing, alpha, threshold,
                duration(dwellMs), timeout, out);
    }

    /** @return the rate of a healthy server, bytes per second */
    public double bestBytesPerSecond() {
        return pacing.bestBytesPerSecond(chunkBytes);
    }

    /** @return the request every run's client sends */
    public StreamRequest request() {
        return new StreamRequest(streamBytes, chunkBytes);
    }

    /**
     * Formats a size the way the options and run names write it.
     *
     * @param bytes a size
     * @return e.g. {@code 2KiB}, or {@code 1500B}
     */
    public static String sizeName(long bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + "KiB" : bytes + "B";
    }

    /**
     * Formats a size for people.
     *
     * @param bytes a size
     * @return e.g. {@code 2 KiB}, or {@code 1500 B}
     */
    public static String sizeLabel(long bytes) {
        return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    private static long size(String opt, String v) {
        String s = v.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (s.endsWith("KIB")) {
            s = s.substring(0, s.length() - 3);
            unit = 1024;
        } else if (s.endsWith("K")) {
            s = s.substring(0, s.length() - 1);
            unit = 1024;
        }
        try {
            long n = Long.parseLong(s) * unit;
            if (n < 0) {
                throw new IllegalArgumentException(opt + ": negative size " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + ": not a size: " + v, e);
        }
    }

    private static List<Integer> sizes(String opt, String v) {
        List<Integer> list = new ArrayList<>();
        if (v.isBlank()) {
            return list;
        }
        for (String part : v.split(",")) {
            list.add(Math.toIntExact(size(opt, part)));
        }
        return list;
    }

    private static double number(String opt, String v) {
        try {
            double x = Double.parseDouble(v);
            if (!Double.isFinite(x)) {
                throw new NumberFormatException();
            }
            return x;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + ": not a number: " + v, e);
        }
    }

    private static Duration duration(double millis) {
        return Duration.ofNanos(Math.round(millis * 1e6));
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}
