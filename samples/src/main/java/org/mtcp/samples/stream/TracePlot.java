package org.mtcp.samples.stream;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws the runs as the thesis's figure 5.4: stream offset received against time, one curve per run,
 * each committed migration marked where it happened, and the line a client would follow if a healthy
 * server served it all the way. The migration runs tend to lie on top of each other (that is the
 * point: the state's size hardly matters), so each has its own colour, dash pattern and marker.
 */
public final class TracePlot {
    private static final Color[] MIGRATION_COLORS = {
        new Color(0x1f77b4), new Color(0x2ca02c), new Color(0x9467bd), new Color(0xff7f0e), new Color(0x17becf),
    };
    private static final Color BASELINE_COLOR = new Color(0xd62728);
    /** Migration runs often follow the same curve: each has its own dash pattern and migration marker too. */
    private static final float[][] MIGRATION_DASHES = {null, {10f, 5f}, {2f, 4f}, {12f, 4f, 2f, 4f}, {6f, 6f}};
    private static final org.knowm.xchart.style.markers.Marker[] MIGRATION_MARKERS = {
        SeriesMarkers.DIAMOND, SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.TRIANGLE_UP, SeriesMarkers.CROSS,
    };

    private TracePlot() {
    }

    /**
     * Renders the chart as a PNG (headless: needs no display).
     *
     * @param file          where to write
     * @param results       the runs
     * @param streamBytes   length of the stream
     * @param bestPerSecond a healthy server's rate in bytes per second (infinite: no reference line)
     * @param servers       how many servers took part
     * @throws IOException when the file cannot be written
     */
    public static void writePng(Path file, List<RunResult> results, long streamBytes, double bestPerSecond,
                                int servers) throws IOException {
        XYChart chart = chart(results, streamBytes, bestPerSecond, servers);
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    static XYChart chart(List<RunResult> results, long streamBytes, double bestPerSecond, int servers) {
        XYChart chart = new XYChartBuilder().width(1100).height(680)
                .title(String.format(Locale.ROOT, "Stream received by an MTCP client during a %s download "
                        + "(%d cooperating servers on loopback)", DemoOptions.sizeLabel(streamBytes), servers))
                .xAxisTitle("time since connect (s)")
                .yAxisTitle("stream offset received (KiB)")
                .build();
        XYStyler styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridLinesColor(new Color(0xe0e0e0));
        styler.setLegendPosition(Styler.LegendPosition.InsideSE);
        styler.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        styler.setMarkerSize(9);
        styler.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        styler.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        styler.setXAxisMin(0.0);
        styler.setYAxisMin(0.0);
        styler.setYAxisMax(Math.ceil(streamBytes / 1024.0 * 1.04));

        if (Double.isFinite(bestPerSecond) && bestPerSecond > 0) {
            double seconds = streamBytes / bestPerSecond;
            XYSeries best = chart.addSeries(String.format(Locale.ROOT, "best server rate (%.0f KiB/s)",
                    bestPerSecond / 1024), new double[] {0, seconds}, new double[] {0, streamBytes / 1024.0});
            best.setMarker(SeriesMarkers.NONE);
            best.setLineColor(Color.GRAY);
            best.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 5f}, 0f));
        }

        int run = 0;
        for (RunResult r : results) {
            if (r.trace().isEmpty()) {
                continue;
            }
            double[] x = new double[r.trace().size()];
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                TracePoint p = r.trace().get(i);
                x[i] = p.nanos() / 1e9;
                y[i] = p.offset() / 1024.0;
            }
            XYSeries s = chart.addSeries(label(r), x, y);
            s.setMarker(SeriesMarkers.NONE);
            if (!r.migrating()) {
                s.setLineWidth(2.2f);
                s.setLineColor(BASELINE_COLOR);
                continue;
            }
            int k = run++;
            Color colour = MIGRATION_COLORS[k % MIGRATION_COLORS.length];
            float[] dash = MIGRATION_DASHES[k % MIGRATION_DASHES.length];
            s.setLineColor(colour);
            s.setLineStyle(dash == null ? new BasicStroke(2.2f)
                    : new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, dash, 0f));
            List<double[]> marks = new ArrayList<>();
            for (MigrationMark m : r.migrations()) {
                if (m.committed()) {
                    marks.add(new double[] {m.nanos() / 1e9, m.offset() / 1024.0});
                }
            }
            if (!marks.isEmpty()) {
                // this run's migrations, in its colour and with its own marker
                XYSeries m = chart.addSeries("migrations, state " + DemoOptions.sizeLabel(r.stateBytes()),
                        marks.stream().mapToDouble(p -> p[0]).toArray(), marks.stream().mapToDouble(p -> p[1]).toArray());
                m.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                m.setMarker(MIGRATION_MARKERS[k % MIGRATION_MARKERS.length]);
                m.setMarkerColor(colour.darker());
            }
        }
        return chart;
    }

    private static String label(RunResult r) {
        String state = DemoOptions.sizeLabel(r.stateBytes());
        String what = r.migrating()
                ? String.format(Locale.ROOT, "migration, state %s (%d moves)", state, r.committedMigrations())
                : String.format(Locale.ROOT, "no migration, state %s", state);
        return String.format(Locale.ROOT, "%s: %.2f s", what, r.elapsedNanos() / 1e9);
    }
}
