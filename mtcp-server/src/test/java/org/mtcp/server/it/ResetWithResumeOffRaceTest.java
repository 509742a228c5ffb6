package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Relay;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server with resuming off ({@code RESUME_GRACE} 0) ends a session when its connection is reset, as a plain
 * socket's connection ends; the client's resume, which races the reset to the server, must hear that the server no
 * longer holds the session. Under load the resume request was once handled before the reset on the old connection
 * (LinkResumeTest in the full suite; here with two busy CPUs, at iterations 1, 2 and 8 of three runs): the server took
 * the resume and the client's read waited 20 s for bytes that never came. Now a server with resuming off answers an
 * authenticated resume by ending the session, whether or not the reset has reached it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResetWithResumeOffRaceTest {
    private static final int ITERATIONS = 40;

    @Test
    void everyResetEndsTheSessionWhateverArrivesFirst() throws Exception {
        try (Cluster c = new Cluster(1, i -> (sock, server) -> {
            sock.getOutputStream().write(7);
            sock.getInputStream().read();
        }); Relay relay = new Relay(c.address(0))) {
            c.server(0).setOption(MtcpOptions.RESUME_GRACE, Duration.ZERO);
            for (int i = 0; i < ITERATIONS; i++) {
                try (MtcpSocket s = new MtcpSocket(relay.address().getAddress(), relay.address().getPort())) {
                    s.setSoTimeout(20_000);
                    assertEquals(7, s.getInputStream().read(), "iteration " + i + ": the server's first byte");
                    // at least the session's connection (the last iteration's refused resume may still be relayed)
                    int cut = relay.cut(true);
                    assertTrue(cut >= 1, "iteration " + i + ": connections the relay cut: " + cut);
                    IOException e = assertThrows(IOException.class, () -> s.getInputStream().read(),
                            "iteration " + i + ": a read after the reset");
                    assertTrue(e.getMessage().startsWith("Connection reset") && e.getMessage().contains("no longer holds"),
                            "iteration " + i + " of " + ITERATIONS + ": expected the reset, in the JDK's words, and that the"
                                    + " server no longer holds the session; got: " + e.getMessage());
                }
            }
        }
    }
}
