package org.mtcp.samples.stream;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes the runs' traces and migrations as CSV. */
public final class TraceCsv {
    /** Header of the trace file. */
    public static final String TRACE_HEADER = "run,state_bytes,t_ms,offset,server";
    /** Header of the migrations file. */
    public static final String MIGRATIONS_HEADER = "run,state_bytes,t_ms,offset,from,to,committed,client_ms,failure";

    private TraceCsv() {
    }

    /**
     * One row per read of every run: {@code run,state_bytes,t_ms,offset,server}.
     *
     * @param file    where to write
     * @param results the runs
     * @throws IOException when the file cannot be written
     */
    public static void writeTrace(Path file, List<RunResult> results) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(TRACE_HEADER);
            w.newLine();
            for (RunResult r : results) {
                for (TracePoint p : r.trace()) {
                    w.write(String.format(Locale.ROOT, "%s,%d,%.3f,%d,%s", r.name(), r.stateBytes(), p.millis(),
                            p.offset(), p.server()));
                    w.newLine();
                }
            }
        }
    }

    /**
     * One row per migration the clients reported.
     *
     * @param file    where to write
     * @param results the runs
     * @throws IOException when the file cannot be written
     */
    public static void writeMigrations(Path file, List<RunResult> results) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(MIGRATIONS_HEADER);
            w.newLine();
            for (RunResult r : results) {
                for (MigrationMark m : r.migrations()) {
                    w.write(String.format(Locale.ROOT, "%s,%d,%.3f,%d,%s,%s,%b,%.3f,%s", r.name(), r.stateBytes(),
                            m.millis(), m.offset(), m.from(), m.to(), m.committed(), m.migrationNanos() / 1e6,
                            m.failure() == null ? "" : '"' + m.failure().replace("\"", "'") + '"'));
                    w.newLine();
                }
            }
        }
    }
}
