package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo at a small size: HttpURLConnection downloads through migrations and the bytes check out.
 * It installs the JVM-wide socket factory, so this class runs in a JVM of its own like every class
 * of this module.
 */
class HttpDemoTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void smallDemoMigratesAndVerifies(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        HttpDemo.Result r;
        Path jfr = dir.resolve("migrations.jfr");
        // the library also reports every migration as a JFR event
        try (Recording recording = new Recording(); PrintStream out = new PrintStream(console, true, StandardCharsets.UTF_8)) {
            recording.enable("org.mtcp.Migration");
            recording.start();
            // 8 MiB/s: a first migration in a fresh JVM on a loaded machine can take a few hundred ms, and
            // the download must last long enough for the later triggers to land
            r = HttpDemo.run(HttpDemo.parse("--size", "16", "--every", "2", "--rate", "8"), out);
            recording.stop();
            recording.dump(jfr);
        }
        long arrivals = 0;
        long departures = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            if (e.getEventType().getName().equals("org.mtcp.Migration") && e.getString("role").equals("ORIGIN")
                    && e.getBoolean("committed")) {
                departures++;
                // the origins asked for every move: their events say so, as the client's do
                assertEquals("SERVER_TRIGGER", e.getString("initiation"), e.toString());
            }
            if (e.getEventType().getName().equals("org.mtcp.Migration") && e.getString("role").equals("DESTINATION")
                    && e.getBoolean("committed")) {
                arrivals++;
            }
        }
        String text = console.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        assertTrue(r.verified(), text);
        assertEquals(16L << 20, r.bytes());
        assertTrue(r.migrations() >= 3, "migrations: " + r.migrations());
        assertTrue(arrivals >= r.migrations(), "JFR events " + arrivals + " for " + r.migrations() + " migrations");
        assertTrue(departures >= r.migrations(), "JFR origin events " + departures + " for " + r.migrations() + " migrations");
        assertTrue(text.contains("migration 1: S1 -> S2"), text);
        assertTrue(text.contains("identical to the file"), text);
        // the counters, labelled, one column per server and one for the client
        assertTrue(text.matches("(?s).*counts of this download\\s+S1\\s+S2\\s+S3\\s+client\n.*"), text);
        assertTrue(text.matches("(?s).*migrations in \\(the session arrived here\\)(\\s+\\d+){3}\\s+-\n.*"), text);
        assertTrue(text.matches("(?s).*migrations out \\(the session moved away\\)(\\s+\\d+){3}\\s+" + r.migrations() + "\n.*"), text);
        assertTrue(text.contains("client: " + r.migrations() + " migrations committed, 0 failed, initiated by {SERVER_TRIGGER="
                + r.migrations() + "}"), text);
    }

    @Test
    void options() {
        assertEquals(HttpDemo.Options.defaults(), HttpDemo.parse());
        assertEquals(new HttpDemo.Options(8, 1, 2, 16, 0), HttpDemo.parse("--size", "8", "--every", "1", "--servers", "2",
                "--chunk", "16", "--rate", "0"));
        assertNull(HttpDemo.parse("--help"));
        assertThrows(IllegalArgumentException.class, () -> HttpDemo.parse("--size"));
        assertThrows(IllegalArgumentException.class, () -> HttpDemo.parse("--size", "x"));
        assertEquals("unknown option: --bogus", assertThrows(IllegalArgumentException.class, () -> HttpDemo.parse("--bogus", "1")).getMessage());
        assertEquals("unknown option: --bogus", assertThrows(IllegalArgumentException.class, () -> HttpDemo.parse("--bogus")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HttpDemo.parse("--servers", "1"));
    }
}
