package org.mtcp.samples.stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CSV files, the table and the plot, from made-up runs (no network). */
class TraceOutputTest {

    private static RunResult run(String name, boolean migrating, long rateKiBps) {
        List<TracePoint> trace = new ArrayList<>();
        List<MigrationMark> marks = new ArrayList<>();
        for (int k = 0; k <= 64; k++) {
            long nanos = k * 1_000_000_000L / rateKiBps;
            trace.add(new TracePoint(nanos, k * 1024L, migrating ? "S" + (1 + k / 16 % 2) : "S1"));
            if (migrating && k > 0 && k % 16 == 0) {
                marks.add(new MigrationMark(nanos, k * 1024L, "S" + (1 + (k / 16 - 1) % 2), "S" + (1 + k / 16 % 2),
                        true, null, 1_500_000));
            }
        }
        if (migrating) {
            marks.add(new MigrationMark(1, 0, "S1", "S2", false, "timeout", 1));
        }
        return new RunResult(name, 2048, migrating, 65536, 65536, 0, -1, trace.get(64).nanos(), trace, marks, null,
                List.of());
    }

    @Test
    void csvHasTheSpecifiedColumnsAndOneRowPerPoint(@TempDir Path dir) throws IOException {
        List<RunResult> results = List.of(run("migration-2KiB", true, 200), run("no-migration", false, 50));
        Path csv = dir.resolve("t.csv");
        TraceCsv.writeTrace(csv, results);
        List<String> lines = Files.readAllLines(csv);
        assertEquals("run,state_bytes,t_ms,offset,server", lines.get(0));
        assertEquals(1 + 65 + 65, lines.size());
        assertEquals("migration-2KiB,2048,5.000,1024,S1", lines.get(2));
        Path migrations = dir.resolve("m.csv");
        TraceCsv.writeMigrations(migrations, results);
        assertEquals(1 + 4 + 1, Files.readAllLines(migrations).size());
    }

    @Test
    void plotIsAReadablePng(@TempDir Path dir) throws IOException {
        List<RunResult> results = List.of(run("migration-2KiB", true, 200), run("no-migration", false, 50));
        Path png = dir.resolve("p.png");
        TracePlot.writePng(png, results, 65536, 256 * 1024, 2);
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "a PNG ImageIO can read");
        assertEquals(1100, image.getWidth());
        assertEquals(680, image.getHeight());
    }

    @Test
    void runsThatLieOnTopOfEachOtherAreToldApart() {
        RunResult small = run("migration-2KiB", true, 200);
        RunResult same = new RunResult("migration-16KiB", 16384, true, 65536, 65536, 0, -1, small.elapsedNanos(),
                small.trace(), small.migrations(), null, List.of());
        org.knowm.xchart.XYChart chart = TracePlot.chart(List.of(small, same, run("no-migration", false, 50)), 65536, 256 * 1024, 2);
        java.util.Map<String, org.knowm.xchart.XYSeries> series = chart.getSeriesMap();
        org.knowm.xchart.XYSeries a = series.get("migrations, state 2 KiB");
        org.knowm.xchart.XYSeries b = series.get("migrations, state 16 KiB");
        assertNotNull(a, series.keySet().toString());
        assertNotNull(b, series.keySet().toString());
        assertTrue(a.getMarker() != b.getMarker(), "each run's migrations have their own marker");
        assertTrue(!a.getMarkerColor().equals(b.getMarkerColor()), "and their own colour");
        assertEquals(4, a.getXData().length, "the committed migrations of that run only");
        List<org.knowm.xchart.XYSeries> curves = series.values().stream().filter(x -> x.getName().startsWith("migration, ")).toList();
        assertEquals(2, curves.size(), series.keySet().toString());
        assertTrue(!curves.get(0).getLineColor().equals(curves.get(1).getLineColor()), "distinct colours");
        assertTrue(!curves.get(0).getLineStyle().equals(curves.get(1).getLineStyle()), "distinct dash patterns");
    }

    @Test
    void tableSaysWhatEachMigrationTimeMeasures() {
        String table = StreamDemo.table(List.of(run("migration-2KiB", true, 200)), 256 * 1024);
        assertTrue(table.contains("client ms"), table);
        assertTrue(table.contains("client ms: the client's mean migration time"), table);
        assertTrue(table.contains("the destination's migration"), table);
    }

    @Test
    void tableCountsCommittedAndFailedMigrations() {
        String table = StreamDemo.table(List.of(run("migration-2KiB", true, 200), run("no-migration", false, 50)),
                256 * 1024);
        assertTrue(table.contains("4 (+1 failed)"), table);
        assertTrue(table.contains("all verified"), table);
        assertTrue(table.contains("best server rate: 256.0 KiB/s"), table);
    }
}
