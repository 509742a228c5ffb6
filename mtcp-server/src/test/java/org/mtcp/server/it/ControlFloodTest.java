package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A control port is bounded before its peers say who they are: connections that never send a
 * CTRL_HELLO beyond {@code ControlEndpoint.MAX_UNINTRODUCED} are closed at once, and a frame larger
 * than a CTRL_HELLO before one closes its connection; the pair's own control connection and the
 * sessions that migrate over it are not touched. Runs in its own JVM with a CTRL_HELLO deadline far
 * longer than the test, so that only the bounds close anything.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ControlFloodTest {
    private static final int FLOOD = 64 + 8;

    @Test
    void unintroducedConnectionsAreCappedAndTheSessionsMigrateOn() throws Exception {
        ChildJvm.Result r = ChildJvm.run(Child.class, Map.of("mtcp.controlConnectTimeoutMillis", "600000"), Duration.ofSeconds(100));
        ChildJvm.assertPassed(r, Child.OK);
    }

    /** The scenario, in a JVM whose control connections wait long for their CTRL_HELLO. */
    static final class Child {
        static final String OK = "CONTROL-FLOOD-SCENARIO-OK";

        public static void main(String[] args) {
            ChildJvm.exitWith(OK, () -> {
                assertEquals(600_000, Settings.CONTROL_CONNECT_TIMEOUT_MILLIS, "the child JVM's CTRL_HELLO deadline");
                scenario();
            });
        }

        static void scenario() throws Exception {
            List<Socket> flood = new ArrayList<>();
            try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
                 MtcpSocket s = new MtcpSocket(HandPlayed.LO, c.address(0).getPort())) {
                s.setSoTimeout(20_000);
                Apps.echoRoundTrip(s, 0, 1000);
                s.migrate(c.address(1)); // the pair's control connection is open from here on
                s.migrate(c.address(0));
                Apps.echoRoundTrip(s, 1000, 1000);
                SocketAddress control = c.mappings().get(c.address(0));
                // the start of a frame larger than any CTRL_HELLO, before one (and before the flood, so that the cap
                // plays no part): closed on its header alone, not kept waiting with its buffer growing for a payload
                // that trickles in
                try (Socket big = new Socket()) {
                    big.connect(control, 10_000);
                    OutputStream out = big.getOutputStream();
                    byte[] frame = HandPlayed.bytes(new Message.Error("x".repeat(1000)).encode());
                    byte[] start = new byte[Wire.CONTROL_MAGIC.length + Wire.HEADER_SIZE + 10];
                    System.arraycopy(Wire.CONTROL_MAGIC, 0, start, 0, Wire.CONTROL_MAGIC.length);
                    System.arraycopy(frame, 0, start, Wire.CONTROL_MAGIC.length, Wire.HEADER_SIZE + 10);
                    out.write(start); // one write: the server may close as soon as it has read the header
                    out.flush();
                    assertTrue(HandPlayed.closedByPeer(big, 20_000), "a frame over the pre-CTRL_HELLO limit closes the connection");
                }
                for (int i = 0; i < FLOOD; i++) {
                    Socket f = new Socket();
                    f.connect(control, 10_000);
                    flood.add(f);
                }
                int closed = 0;
                for (Socket f : flood) {
                    if (HandPlayed.closedByPeer(f, 100)) {
                        closed++;
                    }
                }
                assertEquals(FLOOD - 64, closed, "connections beyond the cap are closed at once, the others wait for their"
                        + " CTRL_HELLO");
                // the session migrates on over the pair's connection, byte-exact
                s.migrate(c.address(1));
                Apps.echoRoundTrip(s, 2000, 1000);
                s.migrate(c.address(0));
                Apps.echoRoundTrip(s, 3000, 1000);
                assertEquals(c.address(0), s.currentServer());
                c.assertNoAppFailure();
            } finally {
                for (Socket f : flood) {
                    try {
                        f.close();
                    } catch (IOException ignored) {
                        // closing is all we wanted
                    }
                }
            }
        }
    }
}
