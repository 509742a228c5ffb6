package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.testkit.Cluster;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A state too large for one control frame (24-bit length) is refused and leaves nothing frozen.
 * Before the migration roles had their deadlines armed at creation, the exception from encoding
 * such a reply escaped after the session was frozen and before its freeze timer was armed: the
 * session stayed frozen for good. Runs in its own JVM: the state limit ({@code mtcp.maxStateBytes})
 * is read once per JVM.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OversizedStateTest {
    private static final int STATE_BYTES = Wire.MAX_LENGTH + 1024;

    @Test
    void aStateTooLargeToSendIsRefusedAndTheSessionServesOn() throws Exception {
        // a freeze deadline far beyond the client's read timeout: only a session that was never left frozen answers in time
        ChildJvm.Result r = ChildJvm.run(Child.class, Map.of("mtcp.maxStateBytes", String.valueOf(2 * STATE_BYTES),
                "mtcp.freezeTimeoutMillis", "600000"), Duration.ofSeconds(100));
        ChildJvm.assertPassed(r, Child.OK);
    }

    /** The scenario, in a JVM whose state limit is above the frame limit. */
    static final class Child {
        static final String OK = "OVERSIZED-STATE-SCENARIO-OK";

        public static void main(String[] args) {
            ChildJvm.exitWith(OK, () -> {
                assertTrue(Settings.MAX_STATE_BYTES > STATE_BYTES, "the child JVM's state limit: " + Settings.MAX_STATE_BYTES);
                scenario();
            });
        }

        /** The server exports a state of more than 16 MiB, then echoes each byte plus one. */
        private static final Cluster.App APP = (s, server) -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int first = in.read();
            s.setOption(MtcpOptions.APP_STATE, new byte[STATE_BYTES]);
            out.write(first + 1);
            for (int b = in.read(); b >= 0; b = in.read()) {
                out.write(b + 1);
            }
        };

        static void scenario() throws Exception {
            try (Cluster c = new Cluster(2, i -> APP);
                 MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort())) {
                s.setSoTimeout(20_000);
                s.getOutputStream().write(1);
                assertEquals(2, s.getInputStream().read(), "the server exported its state and answered");
                MigrationException e = assertThrows(MigrationException.class, () -> s.migrate(c.address(1)));
                assertEquals(MigrationException.Reason.OTHER, e.reason(), e.toString());
                assertTrue(e.sessionAlive(), "the session stays on the origin: " + e);
                assertTrue(e.getMessage().contains("cannot be sent"), e.getMessage());
                // not frozen: the origin answers before a read timeout far shorter than its freeze deadline
                s.setSoTimeout(10_000);
                s.getOutputStream().write(41);
                assertEquals(42, s.getInputStream().read(), "the origin serves on after the refused migration");
                c.assertNoAppFailure();
            }
        }
    }
}
