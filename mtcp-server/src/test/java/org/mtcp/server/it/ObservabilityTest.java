package org.mtcp.server.it;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;
import org.mtcp.server.testkit.Script;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Counters through the public API, and Flight Recorder events with the phase timings. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObservabilityTest {

    @Test
    void countersAndFlightRecorderEvents() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        Script script = new Script().export().read(3000).write(2000).export().write(100);
        Path jfr = Files.createTempFile("mtcp", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("org.mtcp.Migration");
            recording.start();
            try (Cluster c = new Cluster(2, i -> script.app());
                 MtcpSocket s = new MtcpSocket(lo, c.address(0).getPort())) {
                s.setSoTimeout(20_000);
                s.getOutputStream().write(Script.pattern(Script.UP, 0, 3000));
                script.runTo(3);
                Script.expectDown(s.getInputStream(), 0, 2000);
                s.migrate(c.address(1)); // carries 3000 logged bytes; the destination writes 2000 again
                script.runTo(5, 1);
                Script.expectDown(s.getInputStream(), 2000, 100);
                int closedPort;
                try (ServerSocket free = new ServerSocket(0, 1, lo)) {
                    closedPort = free.getLocalPort();
                }
                assertThrows(MigrationException.class, () -> s.migrate(new InetSocketAddress(lo, closedPort)));

                MigrationStatistics client = s.statistics();
                assertEquals(2, client.started());
                assertEquals(1, client.committed());
                assertEquals(1L, client.failedByReason().get(MigrationException.Reason.PEER_UNREACHABLE));
                ThesisCasesTest.destinationEvent(c);
                MigrationStatistics destination = c.server(1).statistics();
                assertEquals(1, destination.committed());
                assertEquals(3000, destination.bytesReplayed());
                assertEquals(2000, destination.duplicateBytesDropped(), "the regenerated 2000 bytes were dropped");
                Waits.until(() -> c.server(0).statistics().committed() > 0, Duration.ofSeconds(10));
                assertEquals(1, c.server(0).statistics().committed(), "the origin counts its side");
            }
            recording.stop();
            recording.dump(jfr);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
        Files.delete(jfr);
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().equals("org.mtcp.Migration")
                && "CLIENT".equals(e.getString("role")) && e.getBoolean("committed") && e.getLong("waitTime") > 0),
                "a committed client migration with its wait phase: " + events);
        assertTrue(events.stream().anyMatch(e -> "DESTINATION".equals(e.getString("role")) && e.getInt("stateBytes") > 0
                && "CLIENT".equals(e.getString("initiation"))), "the destination learns who started it from the request: " + events);
        assertTrue(events.stream().anyMatch(e -> "ORIGIN".equals(e.getString("role")) && e.getBoolean("committed")
                && "CLIENT".equals(e.getString("initiation"))), "so does the origin, from the destination: " + events);
        assertTrue(events.stream().anyMatch(e -> "CLIENT".equals(e.getString("role")) && !e.getBoolean("committed")));
    }
}
