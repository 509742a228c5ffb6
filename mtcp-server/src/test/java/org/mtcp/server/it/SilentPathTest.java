package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Relay;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
                    Background<Long> writer = Background.start("writer", () -> {
                        OutputStream out = s.getOutputStream();
                        byte[] chunk = new byte[8192];
                        for (long at = 0; at < TOTAL; at += chunk.length) {
                            for (int k = 0; k < chunk.length; k++) {
                                chunk[k] = Apps.streamByte(3, at + k);
                            }
                            out.write(chunk);
                            Thread.sleep(1); // a steady stream, so that the silence lands mid-way
                        }
                        return TOTAL;
                    });
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[16384];
                    long at = 0;
                    while (at < TOTAL) {
                        int r = in.read(buf);
                        if (r < 0) {
                            throw new IOException("end of stream after " + at + " bytes");
                        }
                        for (int k = 0; k < r; k++) {
                            if (buf[k] != Apps.transform(Apps.streamByte(3, at + k), at + k)) {
                                throw new AssertionError("echo byte " + (at + k) + " differs (sent " + TOTAL + ", received " + at + ")");
                            }
                        }
                        at += r;
                    }
                    writer.await(Duration.ofSeconds(30));
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
