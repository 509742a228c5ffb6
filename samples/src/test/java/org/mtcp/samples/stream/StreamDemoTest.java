package org.mtcp.samples.stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole demo at a small size on 127.0.0.1: every run verified, the CSV as specified, and the
 * policy moving the session in the migration runs. Nothing about speed is asserted.
 */
class StreamDemoTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void smallDemoMigratesAndDeliversEveryByte(@TempDir Path out) throws IOException {
        DemoOptions options = DemoOptions.parse("--stream", "64K", "--chunk", "1K", "--states", "2K,16K",
                "--base-delay", "1", "--degrade-after", "8K", "--ramp", "8K", "--max-delay", "8", "--dwell", "30",
                "--out", out.toString());
        StreamDemo demo = new StreamDemo(options, System.out);
        List<RunResult> results = demo.run();
        assertTrue(demo.warmup().verified(), "warm-up: " + demo.warmup().verdict());

        assertEquals(List.of("migration-2KiB", "migration-16KiB", "no-migration"),
                results.stream().map(RunResult::name).toList());
        for (RunResult r : results) {
            assertTrue(r.verified(), r.name() + ": " + r.verdict());
            assertEquals(64 * 1024, r.receivedBytes(), r.name());
        }

        List<String> lines = Files.readAllLines(out.resolve(StreamDemo.CSV_NAME));
        assertEquals("run,state_bytes,t_ms,offset,server", lines.get(0));
        Map<String, List<String[]>> rows = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(5, f.length, line);
            rows.computeIfAbsent(f[0], k -> new ArrayList<>()).add(f);
        }
        assertEquals(List.of("migration-2KiB", "migration-16KiB", "no-migration"), List.copyOf(rows.keySet()));
        for (Map.Entry<String, List<String[]>> run : rows.entrySet()) {
            List<String[]> r = run.getValue();
            assertTrue(r.size() > 2, run.getKey() + " has a trace");
            long lastOffset = -1;
            double lastTime = -1;
            int serverChanges = 0;
            for (int i = 0; i < r.size(); i++) {
                long offset = Long.parseLong(r.get(i)[3]);
                double t = Double.parseDouble(r.get(i)[2]);
                assertTrue(offset >= lastOffset, run.getKey() + ": offsets never go back");
                assertTrue(t >= lastTime, run.getKey() + ": time never goes back");
                if (i > 0 && !r.get(i)[4].equals(r.get(i - 1)[4])) {
                    serverChanges++;
                }
                lastOffset = offset;
                lastTime = t;
            }
            assertEquals(64 * 1024, lastOffset, run.getKey() + " ends at the stream's end");
            long state = run.getKey().equals("migration-16KiB") ? 16384 : 2048;
            assertTrue(r.stream().allMatch(f -> Long.parseLong(f[1]) == state), run.getKey() + ": state_bytes");
            if (run.getKey().startsWith("migration-")) {
                assertTrue(serverChanges > 0, run.getKey() + ": the session moved between servers");
            } else {
                assertEquals(0, serverChanges, "the baseline stays on its server");
            }
        }
        for (RunResult r : results) {
            if (r.migrating()) {
                assertTrue(r.committedMigrations() > 0, r.name() + " reported migrations");
            }
        }
        assertTrue(Files.size(out.resolve(StreamDemo.PNG_NAME)) > 1000, "the plot was written");
    }
}
