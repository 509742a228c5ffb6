package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.EchoStream;
import org.mtcp.server.testkit.Relay;
import org.mtcp.server.testkit.Waits;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A path that goes silent without a reset or a FIN (a NAT that forgot the flow, a pulled cable): the
 * session's frames stop arriving while the connection looks open. The client notices by its silence
 * deadline (bytes it sent wait for acknowledgement past {@code mtcp.heartbeatMillis}), takes the
 * connection for broken and resumes the session over a new one; every byte arrives once. The client is a
 * child JVM with a one-second heartbeat; the path is a {@link Relay} the test silences.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SilentPathTest {
    private static final long TOTAL = 16L << 20;

    /** The client: args = relay port. Streams {@link #TOTAL} bytes through the echo and checks every one. */
    static final class Child {
        public static void main(String[] args) {
            ChildJvm.exitWith("ECHO OK", () -> {
                try (MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), Integer.parseInt(args[0]))) {
                    s.setSoTimeout(60_000);
                    EchoStream echo = new EchoStream(s, 3, TOTAL, true); // a steady stream, so that the silence lands mid-way
                    echo.reader.await(Duration.ofSeconds(60));
                    echo.writer.await(Duration.ofSeconds(30));
                    System.out.println("RESUMED " + s.statistics().resumed());
                    if (s.statistics().resumed() < 1) {
                        throw new AssertionError("no resume: " + s.statistics());
                    }
                }
            });
        }
    }

    @Test
    void aSilentPathIsTakenForBrokenAndTheSessionResumes() throws Exception {
        try (Cluster c = new Cluster(1, i -> Apps.transformingEcho(64, 4)); Relay relay = new Relay(c.address(0))) {
            Background<ChildJvm.Result> child = Background.start("client JVM", () -> ChildJvm.runWithArgs(Child.class,
                    Map.of("mtcp.heartbeatMillis", "1000"), Duration.ofSeconds(90), List.of(String.valueOf(relay.address().getPort()))));
            assertTrue(Waits.until(() -> relay.relayed() > (4L << 20) || child.failure() != null, Duration.ofSeconds(60)),
                    "the echo got going: " + relay.relayed() + " bytes relayed");
            assertTrue(relay.silence() >= 1, "a connection went silent");
            ChildJvm.Result r = child.await(Duration.ofSeconds(100));
            ChildJvm.assertPassed(r, "ECHO OK");
            assertTrue(relay.accepted() >= 2, "the client opened a new connection: " + relay.accepted() + "\n" + r.output);
            c.assertNoAppFailure();
        }
    }
}
