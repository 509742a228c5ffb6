package org.mtcp.internal.session;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fault-injection hook: named steps of a migration and of a resume where a test can stop the process and
 * do something to it or to its peers (kill one, cut a connection) before letting it go on. Off by default:
 * {@link #at} is one comparison with a constant {@code null}. Turned on, in a test's child JVM only, with
 * {@code -Dmtcp.faultPause=STEP} and {@code -Dmtcp.faultRelease=FILE}: the first time the process reaches
 * STEP it prints {@code MTCP-FAULT-POINT STEP} on standard error and waits (at most 30 s) until FILE exists,
 * with whatever locks and thread it holds there, as a process caught at that instant.
 */
public final class Faults {
    /** The steps, in the order a migration (then a resume) passes them. */
    public enum Step {
        /** Client: MIGRATE_REQ written to the destination, the answer not yet read. */
        CLIENT_REQUEST_SENT,
        /** Destination: STATE_REQUEST written to the origin. */
        DESTINATION_ASKED_ORIGIN,
        /** Origin: the session frozen and packed, STATE_REPLY not yet written. */
        ORIGIN_PACKED,
        /** Origin: STATE_REPLY written; the destination has not answered. */
        ORIGIN_REPLIED,
        /** Destination: the session installed from the reply, STATE_ACK (the commit) not yet written. */
        DESTINATION_INSTALLED,
        /** Destination: STATE_ACK written (committed), MIGRATE_ACK not yet written. */
        DESTINATION_COMMITTED,
        /** Destination: MIGRATE_ACK written; the client has not read it. */
        DESTINATION_ANSWERED,
        /** Client: switched to the destination's connection. */
        CLIENT_SWITCHED,
        /** Client: a resume request written after its connection broke, the answer not yet read. */
        CLIENT_RESUME_SENT,
        /** Server: a resume granted and answered; the client has not read the answer. */
        SERVER_RESUMED
    }

    private static final Step PAUSE_AT = parse(System.getProperty("mtcp.faultPause"));
    private static final String RELEASE = System.getProperty("mtcp.faultRelease");
    private static final AtomicBoolean REACHED = new AtomicBoolean();

    private Faults() {
    }

    private static Step parse(String s) {
        return s == null || s.isEmpty() ? null : Step.valueOf(s);
    }

    /** The process reaches {@code step}: pauses there when a test asked for it (once), else nothing. */
    public static void at(Step step) {
        if (PAUSE_AT != step || !REACHED.compareAndSet(false, true)) {
            return;
        }
        System.err.println("MTCP-FAULT-POINT " + step);
        System.err.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (RELEASE != null && !Files.exists(Path.of(RELEASE)) && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
