package org.mtcp.samples.stream;

import java.util.List;

/**
 * The outcome of one download: its trace, its migrations and whether every byte arrived right.
 *
 * @param name            the run's name, e.g. {@code migration-2KiB}
 * @param stateBytes      application-state size of the servers
 * @param migrating       whether a migration policy was installed
 * @param streamBytes     length of the stream asked for
 * @param receivedBytes   bytes received before the end or the error
 * @param badBytes        received bytes that differed from the stream
 * @param firstBadOffset  stream offset of the first wrong byte, or -1
 * @param elapsedNanos    from the start of the connect to the last byte (or the error)
 * @param trace           offset against time, one point per read
 * @param migrations      every migration the client reported, committed or not
 * @param error           what ended the download early, or {@code null}
 * @param serverFailures  failures of the servers' application copies during the run
 */
public record RunResult(String name, int stateBytes, boolean migrating, long streamBytes, long receivedBytes,
                        long badBytes, long firstBadOffset, long elapsedNanos, List<TracePoint> trace,
                        List<MigrationMark> migrations, String error, List<String> serverFailures) {

    /** Copies the lists. */
    public RunResult {
        trace = List.copyOf(trace);
        migrations = List.copyOf(migrations);
        serverFailures = List.copyOf(serverFailures);
    }

    /**
     * @param failures failures of the servers' application copies during the run
     * @return this result with those failures
     */
    public RunResult withServerFailures(List<String> failures) {
        return new RunResult(name, stateBytes, migrating, streamBytes, receivedBytes, badBytes, firstBadOffset,
                elapsedNanos, trace, migrations, error, failures);
    }

    /** @return {@code true} when the whole stream arrived, every byte right, and no server failed */
    public boolean verified() {
        return error == null && receivedBytes == streamBytes && badBytes == 0 && serverFailures.isEmpty();
    }

    /** @return how many migrations moved the session */
    public long committedMigrations() {
        return migrations.stream().filter(MigrationMark::committed).count();
    }

    /** @return how many migrations failed (the session staying where it was, or lost) */
    public long failedMigrations() {
        return migrations.size() - committedMigrations();
    }

    /** @return mean time the client spent per committed migration, in milliseconds (0 without any) */
    public double meanMigrationMillis() {
        return migrations.stream().filter(MigrationMark::committed).mapToLong(MigrationMark::migrationNanos)
                .average().orElse(0) / 1e6;
    }

    /** @return the download's effective rate in bytes per second */
    public double bytesPerSecond() {
        return elapsedNanos == 0 ? 0 : receivedBytes * 1e9 / elapsedNanos;
    }

    /** @return one line on what went wrong, or {@code "ok"} */
    public String verdict() {
        if (verified()) {
            return "ok";
        }
        StringBuilder sb = new StringBuilder("FAILED:");
        if (error != null) {
            sb.append(' ').append(error).append(';');
        }
        if (receivedBytes != streamBytes) {
            sb.append(" received ").append(receivedBytes).append(" of ").append(streamBytes).append(" bytes;");
        }
        if (badBytes != 0) {
            sb.append(' ').append(badBytes).append(" wrong bytes, first at offset ").append(firstBadOffset).append(';');
        }
        if (!serverFailures.isEmpty()) {
            sb.append(" server failures: ").append(serverFailures).append(';');
        }
        return sb.substring(0, sb.length() - 1);
    }
}
