package org.mtcp.benchmarks.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.mtcp.benchmarks.FreshJvmMigrationBenchmark;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Renders a benchmark run (JMH's {@code -rf json} files, the phase summaries of
 * {@link org.mtcp.benchmarks.PhaseRecorder}, {@code machine.txt} and {@code command.txt} written by
 * {@code benchmarks/run.sh}) into the generated part of {@code docs/benchmarks.md} (between the
 * markers {@value #BEGIN} and {@value #END}; the rest of the file is kept) and the plots of
 * migration time against state size (thesis figure 5.3) as PNGs.
 *
 * <p>Usage: {@code java -cp benchmarks.jar org.mtcp.benchmarks.report.Report --results DIR --doc FILE --images DIR}
 */
public final class Report {
    /** Start of the generated part of the document. */
    public static final String BEGIN = "<!-- generated:begin (benchmarks/run.sh --render writes this part; do not edit) -->";
    /** End of the generated part of the document. */
    public static final String END = "<!-- generated:end -->";

    static final int[] SIZES = {0, 1024, 5120, 10240, 16384, 65536, 262144, 1048576};

    /** Thesis figure 5.2 (microseconds): state, client prep, wait, complete, S2 prep request, wait reply, reinstate, S1 prep reply. */
    static final int[][] THESIS = {
            {0, 73, 490, 10, 40, 191, 20, 50},
            {5120, 87, 1002, 7, 42, 784, 25, 89},
            {10240, 90, 1521, 7, 42, 1382, 27, 120},
    };

    static final String[] PHASES = {"CLIENT_PREPARE", "CLIENT_WAIT", "CLIENT_COMPLETE", "CLIENT_TOTAL",
            "DESTINATION_PREPARE_REQUEST", "DESTINATION_WAIT_REPLY", "DESTINATION_REINSTATE", "ORIGIN_PREPARE_REPLY"};

    private static final String FLOOR = "FloorBenchmark.migrate";
    private static final String WARM = "MigrationTimeBenchmark.migrate";
    private static final String COLD = "ColdMigrationBenchmark.migrateCold";
    private static final String COLD_FLOOR = "ColdFloorBenchmark.migrateCold";
    private static final String DP = "DataPathBenchmark.";
    private static final String DRAIN = "DrainBenchmark.drain";
    /** Results of {@code benchmarks/run.sh --pinned} (everything on one CPU) sit in this subdirectory. */
    static final String PINNED_DIR = "pinned";
    /** Prefix of the benchmark names of pinned results. */
    static final String PINNED = "pinned:";

    /** One JMH result row; {@code row} is the whole JSON object (percentiles, secondary metrics). */
    record Result(String bench, String mode, Map<String, String> params, double score, double error, String unit,
                  double p50, long count, Map<String, Object> row) {
        /** @return the score in microseconds per operation (time modes) */
        double us() {
            return toUs(score, unit);
        }

        /** @return the median in microseconds (sample and single-shot modes), else NaN */
        double p50us() {
            return toUs(p50, unit);
        }
    }

    /** A phase metric merged over forks. */
    static final class Agg {
        long count;
        double meanSum;
        double p50Sum;
        /** The largest p99 of a fork: the maximum for forks of fewer than 100 samples. */
        double p99Max = Double.NaN;

        void add(long n, double mean, double p50, double p99) {
            count += n;
            meanSum += n * mean;
            p50Sum += n * p50;
            p99Max = Double.isNaN(p99Max) ? p99 : Math.max(p99Max, p99);
        }

        double mean() {
            return count == 0 ? Double.NaN : meanSum / count;
        }

        double p50() {
            return count == 0 ? Double.NaN : p50Sum / count;
        }
    }

    private final List<Result> results = new ArrayList<>();
    /** benchmark (warm/cold) -> state size -> metric -> aggregate. */
    private final Map<String, Map<Integer, Map<String, Agg>>> phases = new TreeMap<>();
    private final Path resultsDir;

    private Report(Path resultsDir) {
        this.resultsDir = resultsDir;
    }

    /**
     * @param args {@code --results DIR --doc FILE --images DIR}
     * @throws IOException when reading or writing fails
     */
    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Map<String, String> opt = new LinkedHashMap<>();
        for (int k = 0; k + 1 < args.length; k += 2) {
            opt.put(args[k], args[k + 1]);
        }
        Path results = Paths.get(opt.getOrDefault("--results", "benchmarks/results"));
        Path doc = Paths.get(opt.getOrDefault("--doc", "docs/benchmarks.md"));
        Path images = Paths.get(opt.getOrDefault("--images", "docs/benchmarks"));
        Report r = new Report(results);
        r.load();
        Files.createDirectories(images);
        String imgRel = relative(doc.toAbsolutePath().getParent(), images.toAbsolutePath());
        r.plots(images);
        String section = r.markdown(imgRel);
        writeSection(doc, section);
        System.out.println("report: " + r.results.size() + " JMH results from " + results + " -> " + doc + ", plots in " + images);
    }

    private static String relative(Path from, Path to) {
        try {
            return from.relativize(to).toString().replace('\\', '/');
        } catch (IllegalArgumentException e) {
            return to.toString();
        }
    }

    // ------------------------------------------------------------------ loading

    private void load() throws IOException {
        Map<String, Result> byKey = new LinkedHashMap<>();
        loadJsons(resultsDir, "", byKey);
        loadJsons(resultsDir.resolve(PINNED_DIR), PINNED, byKey);
        results.addAll(byKey.values());
        loadPhases(resultsDir.resolve("phases"), "");
        loadPhases(resultsDir.resolve(PINNED_DIR).resolve("phases"), "pinned-");
    }

    /** Reads the JMH JSON files of {@code dir}; each benchmark's name gets {@code prefix}. */
    @SuppressWarnings("unchecked")
    private static void loadJsons(Path dir, String prefix, Map<String, Result> byKey) throws IOException {
        List<Path> jsons = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.json")) {
                ds.forEach(jsons::add);
            }
        }
        // later runs win: a partial re-run (run.sh --only) replaces the rows of the full run it repeats. The
        // order is the order of the runs in command.txt (a checkout gives every file the same modification time),
        // then modification time for files it does not name
        List<String> commands = Files.exists(dir.resolve("command.txt"))
                ? Files.readAllLines(dir.resolve("command.txt"), StandardCharsets.UTF_8) : List.of();
        jsons.sort(Comparator.<Path>comparingInt(p -> lastMention(commands, p.getFileName().toString()))
                .thenComparingLong(Report::modified).thenComparing(Comparator.naturalOrder()));
        for (Path p : jsons) {
            String text = Files.readString(p, StandardCharsets.UTF_8).trim();
            if (text.isEmpty()) {
                continue;
            }
            for (Object o : (List<Object>) Json.parse(text)) {
                Map<String, Object> m = (Map<String, Object>) o;
                String full = (String) m.get("benchmark");
                String[] parts = full.split("\\.");
                String bench = prefix + parts[parts.length - 2] + "." + parts[parts.length - 1];
                Map<String, String> params = new TreeMap<>();
                Object po = m.get("params");
                if (po instanceof Map) {
                    ((Map<String, Object>) po).forEach((k, v) -> params.put(k, String.valueOf(v)));
                }
                Map<String, Object> pm = (Map<String, Object>) m.get("primaryMetric");
                double p50 = Double.NaN;
                Object pct = pm.get("scorePercentiles");
                if (pct instanceof Map && ((Map<String, Object>) pct).get("50.0") instanceof Double) {
                    p50 = (Double) ((Map<String, Object>) pct).get("50.0");
                }
                long count = 0;
                Object raw = pm.get("rawData");
                if (raw instanceof List) {
                    for (Object fork : (List<Object>) raw) {
                        count += ((List<Object>) fork).size();
                    }
                }
                Result r = new Result(bench, (String) m.get("mode"), params, num(pm.get("score")), num(pm.get("scoreError")),
                        (String) pm.get("scoreUnit"), p50, count, m);
                byKey.put(bench + params, r);
            }
        }
    }

    /** Reads the phase summaries of {@code dir}; each benchmark key gets {@code prefix}. */
    private void loadPhases(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.csv")) {
            for (Path p : ds) {
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    String[] f = line.split(",");
                    if (f.length < 9 || f[0].equals("benchmark")) {
                        continue;
                    }
                    phases.computeIfAbsent(prefix + f[0], k -> new TreeMap<>())
                            .computeIfAbsent(Integer.parseInt(f[1]), k -> new LinkedHashMap<>())
                            .computeIfAbsent(f[3], k -> new Agg())
                            .add(Long.parseLong(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]),
                                    Double.parseDouble(f[8]));
                }
            }
        }
    }

    /** @return the index of the last line of {@code commands} naming {@code file}, or -1 */
    private static int lastMention(List<String> commands, String file) {
        for (int i = commands.size() - 1; i >= 0; i--) {
            if (commands.get(i).contains("/" + file + " ") || commands.get(i).endsWith("/" + file)) {
                return i;
            }
        }
        return -1;
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static double num(Object o) {
        return o instanceof Double ? (Double) o : Double.NaN;
    }

    static double toUs(double v, String unit) {
        if (unit == null) {
            return Double.NaN;
        }
        switch (unit) {
            case "ns/op":
                return v / 1000.0;
            case "us/op":
                return v;
            case "ms/op":
                return v * 1000.0;
            case "s/op":
                return v * 1e6;
            default:
                return Double.NaN;
        }
    }

    private Result find(String bench, String... kv) {
        outer:
        for (Result r : results) {
            if (!r.bench.equals(bench)) {
                continue;
            }
            for (int k = 0; k + 1 < kv.length; k += 2) {
                String v = r.params.get(kv[k]);
                if (v == null && "control".equals(kv[k]) && "plain".equals(kv[k + 1])) {
                    continue; // results from before the TLS variant: plain control connections
                }
                if (!kv[k + 1].equals(v)) {
                    continue outer;
                }
            }
            return r;
        }
        return null;
    }

    private double us(String bench, String... kv) {
        Result r = find(bench, kv);
        return r == null ? Double.NaN : r.us();
    }

    private double p50(String bench, String... kv) {
        Result r = find(bench, kv);
        return r == null ? Double.NaN : r.p50us();
    }

    /** Throughput in MiB/s (one operation moves 1 MiB). */
    private double mibs(String bench, String... kv) {
        Result r = find(bench, kv);
        if (r == null || !"ops/s".equals(r.unit)) {
            return Double.NaN;
        }
        return r.score;
    }

    private double migration(String bench, int size) {
        return COLD.equals(bench) ? us(bench, "stateBytes", Integer.toString(size), "control", "plain")
                : us(bench, "stateBytes", Integer.toString(size));
    }

    // ------------------------------------------------------------------ plots

    private void plots(Path images) throws IOException {
        plot(images.resolve("migration-vs-state.png"), 16384, true,
                "Migration time vs application state, 0-16 KiB (thesis figure 5.3)");
        plot(images.resolve("migration-vs-state-full.png"), 1048576, false,
                "Migration time vs application state, 0-1 MiB");
    }

    private void plot(Path file, int maxSize, boolean thesis, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(960).height(600).title(title)
                .xAxisTitle("application state (KiB)").yAxisTitle("client-observed migration time (microseconds)").build();
        XYStyler st = chart.getStyler();
        st.setLegendPosition(Styler.LegendPosition.InsideNW);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(225, 225, 225));
        st.setMarkerSize(7);
        st.setYAxisMin(0.0);
        st.setXAxisMin(0.0);
        series(chart, "floor: plain sockets, same choreography", maxSize, s -> migration(FLOOR, s), new Color(90, 90, 90), false);
        series(chart, "floor, cold (fresh servers, control connect)", maxSize, s -> migration(COLD_FLOOR, s), new Color(150, 150, 150), true);
        series(chart, "MTCP, warm control connection", maxSize, s -> migration(WARM, s), new Color(31, 119, 180), false);
        series(chart, "MTCP, cold (first migration, control connect)", maxSize, s -> migration(COLD, s), new Color(214, 39, 40), false);
        if (thesis) {
            double[] x = new double[THESIS.length];
            double[] y = new double[THESIS.length];
            for (int k = 0; k < THESIS.length; k++) {
                x[k] = THESIS[k][0] / 1024.0;
                y[k] = THESIS[k][1] + THESIS[k][2] + THESIS[k][3];
            }
            XYSeries s = chart.addSeries("thesis 2001 (modified FreeBSD kernel, 100 Mb/s Ethernet, 450 MHz Celeron)", x, y);
            s.setMarker(SeriesMarkers.DIAMOND);
            s.setMarkerColor(new Color(44, 160, 44));
            s.setLineColor(new Color(44, 160, 44));
            s.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void series(XYChart chart, String name, int maxSize, IntFunction<Double> f, Color color, boolean dashed) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int s : SIZES) {
            double v = f.apply(s);
            if (s <= maxSize && !Double.isNaN(v)) {
                x.add(s / 1024.0);
                y.add(v);
            }
        }
        if (x.isEmpty()) {
            return;
        }
        XYSeries ser = chart.addSeries(name, x, y);
        ser.setMarker(SeriesMarkers.CIRCLE);
        ser.setMarkerColor(color);
        ser.setLineColor(color);
        if (dashed) {
            ser.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
        }
    }

    // ------------------------------------------------------------------ markdown

    private String markdown(String img) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append(BEGIN).append("\n\n");
        md.append("## Results of the last full run\n\n");
        Path machine = resultsDir.resolve("machine.txt");
        if (Files.exists(machine)) {
            md.append("### Machine and command\n\n```text\n").append(Files.readString(machine).trim()).append("\n```\n\n");
        }
        Path command = resultsDir.resolve("command.txt");
        if (Files.exists(command)) {
            md.append("```text\n").append(Files.readString(command).trim()).append("\n```\n\n");
        }
        Path pinnedCommand = resultsDir.resolve(PINNED_DIR).resolve("command.txt");
        if (Files.exists(pinnedCommand)) {
            md.append("Pinned runs (`benchmarks/run.sh --pinned`):\n\n```text\n").append(Files.readString(pinnedCommand).trim())
                    .append("\n```\n\n");
        }
        goals(md);
        migrationTable(md, img);
        phaseTables(md);
        dataPath(md);
        snapshot(md);
        idleSessions(md);
        streamingMigration(md);
        freshJvm(md);
        md.append(END).append('\n');
        return md.toString();
    }

    private static String f(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String x(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.2fx", v);
    }

    private static String size(int b) {
        if (b == 0) {
            return "0";
        }
        if (b >= 1 << 20) {
            return (b >> 20) + " MiB";
        }
        return (b / 1024) + " KiB";
    }

    /** Least-squares slope (microseconds per KiB) of f over the sizes where it is measured. */
    private static double slope(IntFunction<Double> f) {
        double n = 0;
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (int s : SIZES) {
            double y = f.apply(s);
            if (Double.isNaN(y)) {
                continue;
            }
            double xk = s / 1024.0;
            n++;
            sx += xk;
            sy += y;
            sxx += xk * xk;
            sxy += xk * y;
        }
        if (n < 2) {
            return Double.NaN;
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    private void goal(StringBuilder md, String what, double measured, double limit, boolean atMost, String detail) {
        String verdict;
        if (Double.isNaN(measured)) {
            verdict = "not measured";
        } else if (atMost ? measured <= limit : measured >= limit) {
            verdict = "**met**";
        } else {
            verdict = "**missed**";
        }
        md.append("| ").append(what).append(" | ").append(x(measured)).append(" | ")
                .append(atMost ? "<= " : ">= ").append(String.format(Locale.ROOT, "%.2fx", limit)).append(" | ")
                .append(verdict).append(" | ").append(detail).append(" |\n");
    }

    private void goals(StringBuilder md) {
        md.append("### Goals\n\n");
        md.append("Ratios of means from this run (JMH scores); \"pinned\" rows come from `benchmarks/run.sh --pinned` "
                + "(the benchmark JVMs on one CPU, `taskset -c 0`, floor pinned the same way).\n\n");
        md.append("| goal | measured | target | verdict | numbers |\n|---|---|---|---|---|\n");
        for (String pin : new String[]{"", PINNED}) {
            String how = pin.isEmpty() ? "" : ", pinned to one CPU";
            for (int s : new int[]{0, 16384}) {
                double w = migration(pin + WARM, s);
                double fl = migration(pin + FLOOR, s);
                goal(md, "warm migration, " + size(s) + " state" + how + ", vs floor", w / fl, 1.5, true,
                        f(w) + " us vs " + f(fl) + " us (medians " + f(p50(pin + WARM, "stateBytes", Integer.toString(s)))
                                + " vs " + f(p50(pin + FLOOR, "stateBytes", Integer.toString(s))) + ")");
            }
        }
        for (String pin : new String[]{"", PINNED}) {
            String how = pin.isEmpty() ? "" : ", pinned to one CPU";
            double sm = mibs(pin + DP + "downloadMtcp", "chunk", "1024", "snapshot", "true");
            double sp = mibs(pin + DP + "downloadPlain", "chunk", "1024", "noDelay", "false");
            goal(md, "throughput, 1 KiB server writes + 8-byte export after every write" + how + ", vs plain", sm / sp, 0.90,
                    false, f(sm) + " MiB/s vs " + f(sp) + " MiB/s");
        }
        double um = mibs(DP + "uploadMtcp", "chunk", "65536");
        double up = mibs(DP + "uploadPlain", "chunk", "65536");
        goal(md, "throughput, 64 KiB client writes (upload), vs plain", um / up, 0.95, false,
                f(um) + " MiB/s vs " + f(up) + " MiB/s");
        double dm = mibs(DP + "downloadMtcp", "chunk", "65536", "snapshot", "false");
        double dp = mibs(DP + "downloadPlain", "chunk", "65536", "noDelay", "false");
        goal(md, "throughput, 64 KiB server writes (download), vs plain", dm / dp, 0.95, false,
                f(dm) + " MiB/s vs " + f(dp) + " MiB/s");
        for (int s : new int[]{0, 16384}) {
            double c = migration(COLD, s);
            double cf = migration(COLD_FLOOR, s);
            goal(md, "cold migration, " + size(s) + " state, vs the cold floor", c / cf, 1.5, true,
                    f(c) + " us vs " + f(cf) + " us (vs the warm floor: " + x(c / migration(FLOOR, s)) + ")");
        }
        double sw = slope(s -> migration(WARM, s));
        double sf = slope(s -> migration(FLOOR, s));
        goal(md, "slope of warm migration time vs state size, vs floor's", sw / sf, 1.2, true,
                f(sw) + " us/KiB vs " + f(sf) + " us/KiB (least squares, 0-1 MiB)");
        Result drain = find(DRAIN);
        if (drain != null) {
            int n = Integer.parseInt(drain.params.getOrDefault("sessions", "1000"));
            double d = drain.us();
            double sequential = n * migration(FLOOR, 0);
            goal(md, "drain of " + n + " live sessions, vs " + n + " sequential floor migrations", d / sequential, 1.0, true,
                    f(d / 1000) + " ms vs " + n + " x " + f(migration(FLOOR, 0)) + " us = " + f(sequential / 1000)
                            + " ms (median drain " + f(drain.p50us() / 1000) + " ms)");
        } else {
            goal(md, "drain of 1000 live sessions, vs 1000 sequential floor migrations", Double.NaN, 1.0, true, "");
        }
        double pm = us(DP + "pingPongMtcp");
        double pp = us(DP + "pingPongPlain");
        goal(md, "1-byte ping-pong latency vs plain", pm / pp, 1.2, true, f(pm) + " us vs " + f(pp) + " us");
        md.append("\nThe goals on idle sessions (bytes per session at each end, 100,000 sessions in one server), on a "
                + "migration while the session streams, and on the first migrations in fresh server JVMs are in their own "
                + "sections below, each with its verdict.\n\n");
    }

    private void migrationTable(StringBuilder md, String img) {
        md.append("### Migration time vs state size (thesis figure 5.3)\n\n");
        md.append("![migration time vs state size, 0-16 KiB](").append(img).append("/migration-vs-state.png)\n\n");
        md.append("![migration time vs state size, 0-1 MiB](").append(img).append("/migration-vs-state-full.png)\n\n");
        md.append("Client-observed time of one migration in microseconds: mean (median). Floor = the same choreography "
                + "on plain sockets (`FloorBenchmark`); warm = `MigrationTimeBenchmark` (control connection open); "
                + "cold = `ColdMigrationBenchmark` (first migration between two fresh servers); cold floor = "
                + "`ColdFloorBenchmark` (fresh plain servers, control connection opened by the first request). "
                + "Thesis = client prepare + wait + complete of figure 5.2.\n\n");
        md.append("| state | floor | MTCP warm | warm / floor | MTCP cold | cold / floor | cold floor | cold / cold floor | thesis |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (int s : SIZES) {
            double fl = migration(FLOOR, s);
            double w = migration(WARM, s);
            double c = migration(COLD, s);
            String th = "";
            for (int[] t : THESIS) {
                if (t[0] == s) {
                    th = Integer.toString(t[1] + t[2] + t[3]);
                }
            }
            String sz = Integer.toString(s);
            md.append("| ").append(size(s))
                    .append(" | ").append(f(fl)).append(" (").append(f(p50(FLOOR, "stateBytes", sz))).append(')')
                    .append(" | ").append(f(w)).append(" (").append(f(p50(WARM, "stateBytes", sz))).append(')')
                    .append(" | ").append(x(w / fl))
                    .append(" | ").append(f(c)).append(" (").append(f(p50(COLD, "stateBytes", sz, "control", "plain"))).append(')')
                    .append(" | ").append(x(c / fl))
                    .append(" | ").append(f(migration(COLD_FLOOR, s))).append(" (").append(f(p50(COLD_FLOOR, "stateBytes", sz))).append(')')
                    .append(" | ").append(x(c / migration(COLD_FLOOR, s)))
                    .append(" | ").append(th).append(" |\n");
        }
        md.append("\nLeast-squares slopes over 0-1 MiB: floor ").append(f(slope(s -> migration(FLOOR, s))))
                .append(" us/KiB, warm ").append(f(slope(s -> migration(WARM, s))))
                .append(" us/KiB, cold ").append(f(slope(s -> migration(COLD, s)))).append(" us/KiB.\n\n");
        StringBuilder tls = new StringBuilder();
        for (int s : SIZES) {
            String sz = Integer.toString(s);
            double t = us(COLD, "stateBytes", sz, "control", "tls");
            if (!Double.isNaN(t)) {
                double c = migration(COLD, s);
                tls.append("| ").append(size(s)).append(" | ").append(f(c)).append(" | ").append(f(t)).append(" (")
                        .append(f(p50(COLD, "stateBytes", sz, "control", "tls"))).append(") | ").append(f(t - c)).append(" |\n");
            }
        }
        if (tls.length() > 0) {
            md.append("Cold migration with TLS control connections (`ColdMigrationBenchmark`, `control=tls`): the first "
                    + "control connection of a pair opens with a TLS 1.3 handshake, both certificates checked "
                    + "(`MtcpOptions.CONTROL_TLS`); the difference is its cost.\n\n");
            md.append("| state | cold, plain | cold, TLS | TLS handshake |\n|---|---|---|---|\n").append(tls).append('\n');
        }
    }

    private void phaseTables(StringBuilder md) {
        md.append("### Phase breakdown (thesis figure 5.2)\n\n");
        md.append("Means in microseconds over the measured migrations, from the `MigrationEvent`s of the client, the "
                + "destination (S2) and the origin (S1); n = client events. \"client total\" is the client's three "
                + "phases added up (its median in brackets).\n\n");
        String head = "| state | client prepare | client wait | client complete | client total | S2 prepare request "
                + "| S2 wait reply | S2 reinstate | S1 prepare reply | n |\n|---|---|---|---|---|---|---|---|---|---|\n";
        for (String bench : new String[]{"warm", "cold", "pinned-warm"}) {
            Map<Integer, Map<String, Agg>> bySize = phases.get(bench);
            md.append("**This run, ").append(bench.equals("warm") ? "warm control connection"
                    : bench.equals("cold") ? "cold (first migration)" : "warm control connection, pinned to one CPU")
                    .append("**\n\n");
            if (bySize == null) {
                md.append("No phase data.\n\n");
                continue;
            }
            md.append(head);
            for (Map.Entry<Integer, Map<String, Agg>> e : bySize.entrySet()) {
                Map<String, Agg> m = e.getValue();
                md.append("| ").append(size(e.getKey()));
                for (String ph : PHASES) {
                    Agg a = m.get(ph);
                    md.append(" | ").append(a == null ? "—" : f(a.mean()));
                    if (ph.equals("CLIENT_TOTAL") && a != null) {
                        md.append(" (").append(f(a.p50())).append(')');
                    }
                }
                Agg total = m.get("CLIENT_TOTAL");
                Agg failed = m.get("FAILED");
                md.append(" | ").append(total == null ? 0 : total.count);
                if (failed != null && failed.count > 0) {
                    md.append(", ").append(failed.count).append(" failed");
                }
                md.append(" |\n");
            }
            md.append('\n');
        }
        md.append("**Thesis (modified FreeBSD kernel, three machines, 100 Mb/s Ethernet, 450 MHz Celeron, 200 one-way migrations)**\n\n").append(head);
        for (int[] t : THESIS) {
            md.append("| ").append(t[0] == 0 ? "0" : (t[0] / 1024) + " KB").append(" | ").append(t[1]).append(" | ")
                    .append(t[2]).append(" | ").append(t[3]).append(" | ").append(t[1] + t[2] + t[3]).append(" | ")
                    .append(t[4]).append(" | ").append(t[5]).append(" | ").append(t[6]).append(" | ").append(t[7])
                    .append(" | 200 |\n");
        }
        md.append('\n');
    }

    private void dataPath(StringBuilder md) {
        md.append("### Data path (no migration)\n\n");
        md.append("Throughput in MiB/s (mean of iterations; one operation moves 1 MiB). Download: the server "
                + "application writes `chunk`-byte writes (\"+ snapshot\": and exports an 8-byte state after each); "
                + "upload: the client writes. Plain = `java.net` sockets with the JDK's default options; "
                + "\"plain, NODELAY\" sets `TCP_NODELAY` on the server's socket (one segment per write).\n\n");
        md.append("| direction | write size | plain | plain, NODELAY | MTCP | MTCP + snapshot | MTCP / plain | MTCP + snapshot / plain |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (String chunk : new String[]{"1024", "65536"}) {
            double p = mibs(DP + "downloadPlain", "chunk", chunk, "noDelay", "false");
            double pn = mibs(DP + "downloadPlain", "chunk", chunk, "noDelay", "true");
            double m = mibs(DP + "downloadMtcp", "chunk", chunk, "snapshot", "false");
            double ms = mibs(DP + "downloadMtcp", "chunk", chunk, "snapshot", "true");
            md.append("| download | ").append(size(Integer.parseInt(chunk))).append(" | ").append(f(p)).append(" | ")
                    .append(f(pn)).append(" | ").append(f(m)).append(" | ").append(f(ms)).append(" | ")
                    .append(x(m / p)).append(" | ").append(x(ms / p)).append(" |\n");
        }
        for (String chunk : new String[]{"1024", "65536"}) {
            double p = mibs(DP + "uploadPlain", "chunk", chunk);
            double m = mibs(DP + "uploadMtcp", "chunk", chunk);
            md.append("| upload | ").append(size(Integer.parseInt(chunk))).append(" | ").append(f(p))
                    .append(" | | ").append(f(m)).append(" | | ").append(x(m / p)).append(" | |\n");
        }
        md.append("\nLatency in microseconds (mean).\n\n| operation | plain | MTCP | MTCP / plain |\n|---|---|---|---|\n");
        double pp = us(DP + "pingPongPlain");
        double pm = us(DP + "pingPongMtcp");
        md.append("| 1-byte ping-pong | ").append(f(pp)).append(" | ").append(f(pm)).append(" | ").append(x(pm / pp)).append(" |\n");
        double rp = us(DP + "roundRobinPlain");
        double rm = us(DP + "roundRobinMtcp");
        md.append("| 1-byte echo on the next of ").append(roundRobinSessions())
                .append(" connections in turn (each quiet in between, a server thread per connection) | ").append(f(rp))
                .append(" | ").append(f(rm)).append(" | ").append(x(rm / rp)).append(" |\n");
        double sp = us(DP + "splitResponsePlain");
        double sm = us(DP + "splitResponseMtcp");
        md.append("| request, response in two writes, default options (Nagle on) | ").append(f(sp)).append(" | ")
                .append(f(sm)).append(" | ").append(x(sm / sp)).append(" |\n");
        double cp = us(DP + "connectPlain");
        double cm = us(DP + "connectMtcp");
        md.append("| connect + handshake, server closes, client sees EOF and closes | ").append(f(cp)).append(" | ")
                .append(f(cm)).append(" | ").append(x(cm / cp)).append(" |\n\n");
    }

    /** @return the round-robin benchmarks' connection count as measured, "2,000" if they did not run */
    private String roundRobinSessions() {
        Result r = find(DP + "roundRobinMtcp");
        String n = r == null ? "2000" : r.params.getOrDefault("sessions", "2000");
        return String.format(java.util.Locale.ROOT, "%,d", Integer.parseInt(n));
    }

    private void snapshot(StringBuilder md) {
        md.append("### Export (snapshot) cost\n\n");
        md.append("`accepted.setOption(MtcpOptions.APP_STATE, bytes)` on an idle MTCP connection, against "
                + "`Arrays.copyOf` of the same bytes. Microseconds (mean).\n\n");
        md.append("| state | export | copy | export / copy |\n|---|---|---|---|\n");
        for (int s : SIZES) {
            double e = us("SnapshotBenchmark.export", "stateBytes", Integer.toString(s));
            double c = us("SnapshotBenchmark.copy", "stateBytes", Integer.toString(s));
            md.append("| ").append(size(s)).append(" | ").append(f(e)).append(" | ").append(f(c)).append(" | ")
                    .append(x(e / c)).append(" |\n");
        }
        md.append('\n');
    }

    /**
     * Idle sessions ({@code IdleCostBenchmark}, {@code IdleSessionsBenchmark}): bytes per idle session at each
     * end against the 2 KiB goal, and the many-sessions run. Their figures are JMH secondary metrics (aux
     * counters) of the loaded rows, each the mean of its iterations' raw values (JMH sums aux counters over
     * iterations).
     */
    @SuppressWarnings("unchecked")
    private void idleSessions(StringBuilder md) {
        record Idle(String bench, Map<String, String> params, double openMs, Map<String, Double> m) {
            double get(String k) {
                return m.getOrDefault(k, Double.NaN);
            }
        }
        java.util.function.DoubleFunction<String> n = v -> Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%,.0f", v);
        java.util.function.Function<Object, Double> mean = raw -> {
            double sum = 0;
            int count = 0;
            if (raw instanceof List) {
                for (Object fork : (List<Object>) raw) {
                    for (Object v : (List<Object>) fork) {
                        if (v instanceof Double) {
                            sum += (Double) v;
                            count++;
                        }
                    }
                }
            }
            return count == 0 ? Double.NaN : sum / count;
        };
        Map<String, Idle> rows = new LinkedHashMap<>();
        for (Result r : results) {
            if (!r.bench.startsWith("IdleCostBenchmark.") && !r.bench.startsWith("IdleSessionsBenchmark.")) {
                continue;
            }
            Map<String, Object> pm = (Map<String, Object>) r.row.get("primaryMetric");
            double ms = mean.apply(pm.get("rawData"));
            if ("s/op".equals(r.unit)) {
                ms *= 1000;
            } else if ("us/op".equals(r.unit)) {
                ms /= 1000;
            }
            Map<String, Double> m = new TreeMap<>();
            if (r.row.get("secondaryMetrics") instanceof Map) {
                ((Map<String, Object>) r.row.get("secondaryMetrics")).forEach((k, v) ->
                        m.put(k, mean.apply(((Map<String, Object>) v).get("rawData"))));
            }
            rows.put(r.bench + r.params, new Idle(r.bench, r.params, ms, m));
        }
        if (rows.isEmpty()) {
            return;
        }
        md.append("### Idle sessions: memory per end, and many sessions in one server\n\n");
        md.append("Heap + direct buffers that established, idle sessions (one byte echoed each way, then nothing) add "
                + "to each end's JVM, per session: (after - before) / sessions, both after full collections. The server end "
                + "runs in a JVM of its own that holds its sockets without a thread per session; library defaults; free "
                + "chunks in the library's process-wide buffer pool belong to no session and are not counted.\n\n");
        md.append("| end | plain socket, bytes/session | MTCP, bytes/session | of which direct | goal | verdict |\n"
                + "|---|---|---|---|---|---|\n");
        Idle plain = null;
        Idle mtcp = null;
        for (Idle r : rows.values()) {
            if (r.bench.equals("IdleCostBenchmark.open")) {
                if ("plain".equals(r.params.get("kind"))) {
                    plain = r;
                } else if ("mtcp".equals(r.params.get("kind"))) {
                    mtcp = r;
                }
            }
        }
        for (String end : new String[]{"client", "server"}) {
            double p = plain == null ? Double.NaN : plain.get(end + "BytesPerSession");
            double m = mtcp == null ? Double.NaN : mtcp.get(end + "BytesPerSession");
            double d = mtcp == null ? Double.NaN : mtcp.get(end + "DirectPerSession");
            String verdict = Double.isNaN(m) ? "not measured" : m <= 2048 ? "**met**" : "**missed**";
            md.append("| ").append(end).append(" | ").append(n.apply(p)).append(" | ").append(n.apply(m))
                    .append(Double.isNaN(m) ? "" : String.format(Locale.ROOT, " (%.1f KiB)", m / 1024)).append(" | ")
                    .append(n.apply(d)).append(" | <= 2 KiB | ").append(verdict).append(" |\n");
        }
        Idle any = mtcp != null ? mtcp : plain;
        if (any != null) {
            md.append("\nSessions per measurement: ").append(n.apply(any.get("sessionsHeld")))
                    .append(" held (").append(any.params.getOrDefault("sessions", "?"))
                    .append(" opened in the shot); threads with them open, MTCP: client process ")
                    .append(mtcp == null ? "—" : n.apply(mtcp.get("clientThreads"))).append(", server process ")
                    .append(mtcp == null ? "—" : n.apply(mtcp.get("serverThreads"))).append(" (")
                    .append(mtcp == null ? "—" : n.apply(mtcp.get("serverJavaThreads"))).append(" Java); plain: ")
                    .append(plain == null ? "—" : n.apply(plain.get("clientThreads"))).append(" and ")
                    .append(plain == null ? "—" : n.apply(plain.get("serverThreads"))).append(".\n\n");
        }
        List<Idle> many = new ArrayList<>();
        for (Idle r : rows.values()) {
            if (r.bench.equals("IdleSessionsBenchmark.open")) {
                many.add(r);
            }
        }
        many.sort(Comparator.comparingDouble(r -> Double.parseDouble(r.params.getOrDefault("sessions", "0"))));
        if (!many.isEmpty()) {
            md.append("Idle MTCP sessions into one server process (both JVMs `-Xms4g -Xmx4g`; open-file limits raised "
                    + "by the benchmark where it may; clients over 127.0.0.2-9), opened one after the other from one "
                    + "thread. Goal: 100,000 sessions, fixed threads.\n\n");
            md.append("| asked | opened | held | time to open | per session | server threads (Java) | client threads "
                    + "| client bytes/session | server bytes/session |\n|---|---|---|---|---|---|---|---|---|\n");
            double most = 0;
            boolean capped = false;
            for (Idle r : many) {
                double asked = Double.parseDouble(r.params.getOrDefault("sessions", "NaN"));
                double held = r.get("sessionsHeld");
                double opened = r.get("sessionsOpened");
                most = Math.max(most, held);
                capped |= opened < asked;
                md.append("| ").append(n.apply(asked)).append(" | ").append(n.apply(opened)).append(" | ").append(n.apply(held)).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f s", r.openMs / 1000)).append(" | ")
                        .append(n.apply(r.openMs * 1000 / opened)).append(" us | ").append(n.apply(r.get("serverThreads")))
                        .append(" (").append(n.apply(r.get("serverJavaThreads"))).append(") | ")
                        .append(n.apply(r.get("clientThreads"))).append(" | ").append(n.apply(r.get("clientBytesPerSession")))
                        .append(" | ").append(n.apply(r.get("serverBytesPerSession"))).append(" |\n");
            }
            md.append("\nMost sessions held in one server process: ").append(n.apply(most)).append(" (goal 100,000: ")
                    .append(most >= 100_000 ? "**met**" : "**missed**").append(").")
                    .append(capped ? " Fewer opened than asked: the open-file limits capped the run "
                            + "(the benchmark's log says why)." : "").append("\n\n");
        }
    }

    // ------------------------------------------------------------------ migration under load

    /** @return the {@code primaryMetric} object of the latest JMH row of a benchmark with these parameters, or {@code null} */
    @SuppressWarnings("unchecked")
    private Map<String, Object> primaryMetric(String bench, String... kv) {
        Result r = find(bench, kv);
        return r == null ? null : (Map<String, Object>) r.row.get("primaryMetric");
    }

    /** @return percentile {@code pct} (e.g. {@code "90.0"}, {@code "100.0"}) of a primary metric in microseconds, else NaN */
    @SuppressWarnings("unchecked")
    private static double percentileUs(Map<String, Object> pm, String pct) {
        if (pm == null || !(pm.get("scorePercentiles") instanceof Map)) {
            return Double.NaN;
        }
        return toUs(num(((Map<String, Object>) pm.get("scorePercentiles")).get(pct)), (String) pm.get("scoreUnit"));
    }

    /** @return the mean of a primary metric in microseconds, else NaN */
    private static double meanUs(Map<String, Object> pm) {
        return pm == null ? Double.NaN : toUs(num(pm.get("score")), (String) pm.get("scoreUnit"));
    }

    /** @return the number of samples (SampleTime) or shots (SingleShotTime) of a primary metric */
    @SuppressWarnings("unchecked")
    private static long samples(Map<String, Object> pm) {
        long n = 0;
        if (pm != null && pm.get("rawDataHistogram") instanceof List) {
            for (Object fork : (List<Object>) pm.get("rawDataHistogram")) {
                for (Object iteration : (List<Object>) fork) {
                    for (Object bin : (List<Object>) iteration) {
                        n += (long) num(((List<Object>) bin).get(1));
                    }
                }
            }
        } else if (pm != null && pm.get("rawData") instanceof List) {
            for (Object fork : (List<Object>) pm.get("rawData")) {
                n += ((List<Object>) fork).size();
            }
        }
        return n;
    }

    /** @return a merged phase metric of a benchmark of the phases CSVs, or {@code null} */
    private Agg phase(String bench, String metric) {
        Map<Integer, Map<String, Agg>> bySize = phases.get(bench);
        if (bySize == null) {
            return null;
        }
        for (Map<String, Agg> m : bySize.values()) {
            if (m.get(metric) != null) {
                return m.get(metric);
            }
        }
        return null;
    }

    private static String verdict(double measured, double limit) {
        return Double.isNaN(measured) ? "not measured" : measured <= limit ? "**met**" : "**missed**";
    }

    /** StreamingMigrationBenchmark: a warm migration with the session streaming both ways, against idle; goal p50 ratio <= 1.5x. */
    private void streamingMigration(StringBuilder md) {
        String bench = "StreamingMigrationBenchmark.migrate";
        Map<String, Object> idle = primaryMetric(bench, "load", "idle");
        Map<String, Object> busy = primaryMetric(bench, "load", "streaming");
        md.append("### Migration while the session streams both ways\n\n");
        if (idle == null && busy == null) {
            md.append("Not measured (`StreamingMigrationBenchmark`).\n\n");
            return;
        }
        md.append("`StreamingMigrationBenchmark`: the warm migration of `MigrationTimeBenchmark` (two servers, control "
                + "connections open, the session moves back and forth), the session idle or streaming at full speed both "
                + "ways (16 KiB writes each way, every byte checked exactly once; the client reads 1 MiB + 32 KiB between "
                + "two migrations, not measured). Client-observed `migrate()` time in microseconds (JMH sample mode); "
                + "client wait = the client's `CLIENT_WAIT` phase, mean.\n\n");
        md.append("| load | samples | mean | p50 | p90 | max | client wait |\n|---|---|---|---|---|---|---|\n");
        String[] loads = {"idle", "streaming"};
        List<Map<String, Object>> pms = new ArrayList<>();
        pms.add(idle);
        pms.add(busy);
        double[][] v = new double[2][];
        for (int k = 0; k < 2; k++) {
            Map<String, Object> pm = pms.get(k);
            Agg wait = phase("stream-" + loads[k], "CLIENT_WAIT");
            v[k] = new double[]{meanUs(pm), percentileUs(pm, "50.0"), percentileUs(pm, "90.0"), percentileUs(pm, "100.0"),
                    wait == null ? Double.NaN : wait.mean()};
            md.append("| ").append(loads[k]).append(" | ").append(samples(pm));
            for (double d : v[k]) {
                md.append(" | ").append(f(d));
            }
            md.append(" |\n");
        }
        md.append("| streaming / idle | ");
        for (int c = 0; c < 5; c++) {
            md.append(" | ").append(x(v[1][c] / v[0][c]));
        }
        md.append(" |\n\n");
        double ratio = v[1][1] / v[0][1];
        md.append("Goal: streaming / idle at the median <= 1.50x: ").append(x(ratio)).append(", ").append(verdict(ratio, 1.5))
                .append(" (p50 ").append(f(v[1][1])).append(" us vs ").append(f(v[0][1])).append(" us; p90 ")
                .append(f(v[1][2])).append(" us, max ").append(f(v[1][3])).append(" us).\n\n");
    }

    /** FreshJvmMigrationBenchmark: the first and second migration in fresh server JVMs and the warm reference, streaming; goal CLIENT_WAIT <= 5 ms. */
    private void freshJvm(StringBuilder md) {
        String bench = "FreshJvmMigrationBenchmark.migrate";
        md.append("### First migrations in fresh server JVMs, session streaming\n\n");
        Map<String, Object> first = primaryMetric(bench, "migration", "first");
        Map<String, Object> second = primaryMetric(bench, "migration", "second");
        if (first == null && second == null) {
            md.append("Not measured (`FreshJvmMigrationBenchmark`).\n\n");
            return;
        }
        md.append("`FreshJvmMigrationBenchmark`: every shot launches two new server JVMs (library and JVM defaults, but "
                + "`CONTROL_OPEN_AHEAD`, which the README tells a deploy's servers to set: their control connection is open "
                + "before the first migration), "
                + "streams both ways through server 0 for `upMillis` ms after they are up, then migrates: `first` = server "
                + "0 to 1, the first migration of both JVMs; `second` = back to server 0 after it (and 1 MiB + 32 KiB "
                + "streamed on server 1); `warm` = the one after " + FreshJvmMigrationBenchmark.WARM_MIGRATIONS
                + " such migrations back and forth in the same three JVMs "
                + "(the reference: the same load once the path has run). Microseconds; `migrate()` = client-observed time "
                + "(JMH single shot), client wait = its `CLIENT_WAIT` phase (what the goal is about). The goal holds when "
                + "every shot's client wait is within it.\n\n");
        md.append("| servers up for | migration | shots | migrate() mean | migrate() p50 | migrate() max | client wait mean "
                + "| client wait p50 | client wait max | goal <= 5 ms (max) |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (String up : new String[]{"200", "2000"}) {
            for (String which : new String[]{"first", "second", "warm"}) {
                Map<String, Object> pm = primaryMetric(bench, "migration", which, "upMillis", up);
                if (pm == null) {
                    continue;
                }
                String key = "fresh-" + which + "-" + up;
                Agg wait = phase(key, "CLIENT_WAIT");
                double waitMax = wait == null ? Double.NaN : wait.p99Max;
                md.append("| ").append(up).append(" ms | ").append(which).append(" | ").append(samples(pm))
                        .append(" | ").append(f(meanUs(pm))).append(" | ").append(f(percentileUs(pm, "50.0")))
                        .append(" | ").append(f(percentileUs(pm, "100.0")))
                        .append(" | ").append(wait == null ? "—" : f(wait.mean())).append(" | ")
                        .append(wait == null ? "—" : f(wait.p50()))
                        .append(" | ").append(f(waitMax)).append(" | ").append(verdict(waitMax, 5000)).append(" |\n");
            }
        }
        md.append('\n');
    }

    // ------------------------------------------------------------------ document

    private static void writeSection(Path doc, String section) throws IOException {
        String text;
        if (Files.exists(doc)) {
            text = Files.readString(doc, StandardCharsets.UTF_8);
        } else {
            text = "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n";
        }
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b < 0 || e < b) {
            text = text.endsWith("\n") ? text + "\n" + section : text + "\n\n" + section;
        } else {
            String after = text.substring(e + END.length());
            if (after.startsWith("\n")) {
                after = after.substring(1);
            }
            text = text.substring(0, b) + section + after;
        }
        if (doc.toAbsolutePath().getParent() != null) {
            Files.createDirectories(doc.toAbsolutePath().getParent());
        }
        Files.writeString(doc, text, StandardCharsets.UTF_8);
    }
}
