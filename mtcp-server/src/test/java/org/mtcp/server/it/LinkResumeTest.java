package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.EchoStream;
import org.mtcp.server.testkit.Relay;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Link resume (the robustness issue): the connection under a live session breaks, as a middlebox's reset,
 * a NAT timeout or an end without the library's end of stream break it, and the client reconnects by itself
 * and resumes the session exactly once in both directions, again and again; neither application sees an
 * error. A client that does not come back leaves its server's calls failing after the grace period, with
 * an exception that says so; a server that no longer holds the session fails the client's calls with the
 * words of the broken connection. The connection runs through a {@link Relay} the test cuts.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LinkResumeTest {
    private static final long TOTAL = 24L << 20;
    private static final int CUTS = 20;

    @Test
    void resetsUnderAStreamingEchoLoseAndRepeatNothing() throws Exception {
        streamThroughCuts(true);
    }

    @Test
    void connectionsThatEndWithoutTheLibrarysEndOfStreamResumeToo() throws Exception {
        streamThroughCuts(false);
    }

    private static void streamThroughCuts(boolean reset) throws Exception {
        try (Cluster c = new Cluster(1, i -> Apps.transformingEcho(64, 4));
             Relay relay = new Relay(c.address(0));
             MtcpSocket s = new MtcpSocket(relay.address().getAddress(), relay.address().getPort())) {
            s.setSoTimeout(60_000);
            EchoStream echo = new EchoStream(s, 11, TOTAL, false);
            AtomicLong received = echo.received;
            Background<Long> reader = echo.reader;
            Background<Long> writer = echo.writer;
            int cut = 0;
            StringBuilder cuts = new StringBuilder();
            for (int i = 1; i <= CUTS; i++) {
                long mark = TOTAL * i / (CUTS + 2);
                assertTrue(Waits.until(() -> received.get() >= mark || reader.failure() != null, Duration.ofSeconds(60)),
                        "the echo reached " + received.get() + " of " + mark + " bytes before cut " + i + ": " + s.debugState());
                if (reader.failure() != null) {
                    break;
                }
                assertTrue(Waits.until(() -> relay.live() > 0, Duration.ofSeconds(30)), "the client reconnected: " + s.debugState());
                int n = relay.cut(reset);
                cuts.append(n).append(' ');
                cut += n;
            }
            assertEquals(TOTAL, reader.await(Duration.ofSeconds(90)), "every echoed byte arrived once, in order");
            assertEquals(TOTAL, writer.await(Duration.ofSeconds(10)));
            assertTrue(cut >= CUTS, "the relay cut " + cut + " connections: " + cuts + "; accepted " + relay.accepted() + "; " + s.statistics());
            // a cut can land on a resume's own connection before its answer: that resume is tried again, one for both cuts
            long resumed = s.statistics().resumed();
            assertTrue(resumed >= CUTS / 2 && resumed <= cut, resumed + " resumes for " + cut + " cuts: " + s.statistics());
            assertEquals(0, s.statistics().resumesFailed(), s.statistics().toString());
            assertTrue(c.server(0).statistics().resumed() >= resumed, "the server granted every resume the client made (and"
                    + " maybe some whose answer a cut lost): " + c.server(0).statistics());
            assertEquals(0, s.statistics().committed(), "resumes are not migrations");
            c.assertNoAppFailure();
        }
    }

    @Test
    @org.junit.jupiter.api.Disabled("intermittent: once in about six runs, under the full suite's load, the resume at the alternate"
            + " did not happen within the 20 s read timeout (Read timed out at the round trip after the cut); to be diagnosed"
            + " before it runs by default (the robustness issue's closing note)")
    void aClientThatCannotReachItsServerResumesAtAnAlternate() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(64, 1)); Relay relay = new Relay(c.address(0));
             MtcpSocket s = new MtcpSocket(relay.address().getAddress(), relay.address().getPort())) {
            s.setSoTimeout(20_000);
            long at = Apps.echoRoundTrip(s, 0, 100_000, "through the relay");
            assertEquals(c.address(0), s.currentServer());
            relay.refuse(true); // the path to server 0 is gone; the servers still reach each other
            relay.cut(true);
            at = Apps.echoRoundTrip(s, at, 100_000, "after the cut");
            assertEquals(c.address(1), s.currentServer(), "the session went on at the alternate: " + s.debugState());
            Apps.echoRoundTrip(s, at, 100_000, "at the alternate");
            assertEquals(1, s.statistics().resumed(), s.statistics().toString());
            assertTrue(Waits.until(() -> c.server(0).sessions().isEmpty(), Duration.ofSeconds(10)),
                    "server 0 let the session go: " + c.server(0).sessions());
            c.assertNoAppFailure();
        }
    }

    @Test
    void aClientThatDoesNotComeBackFailsTheServersCallsAfterTheGrace() throws Exception {
        BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
        try (Cluster c = new Cluster(1, i -> (sock, server) -> {
            try {
                sock.getOutputStream().write(1);
                seen.add(sock.getInputStream().read()); // blocks while the client is away, then fails
            } catch (IOException e) {
                seen.add(e);
            }
        }); Relay relay = new Relay(c.address(0))) {
            c.server(0).setOption(MtcpOptions.RESUME_GRACE, Duration.ofMillis(800));
            assertEquals(Duration.ofMillis(800), c.server(0).getOption(MtcpOptions.RESUME_GRACE));
            try (MtcpSocket s = new MtcpSocket(relay.address().getAddress(), relay.address().getPort())) {
                s.setSoTimeout(20_000);
                assertEquals(1, s.getInputStream().read());
                relay.refuse(true); // the client's tries fail: it looks gone to the server
                relay.cut(true);
                Object outcome = seen.poll(20, TimeUnit.SECONDS);
                assertNotNull(outcome, "the server's read ended");
                assertTrue(outcome instanceof SocketException && ((Exception) outcome).getMessage().contains("did not come back"),
                        "the server's read failed saying the client did not come back: " + outcome);
                assertTrue(Waits.until(() -> c.server(0).sessions().isEmpty(), Duration.ofSeconds(10)),
                        "the session is gone from the server: " + c.server(0).sessions());
                assertTrue(Waits.until(() -> c.server(0).statistics().resumesFailed() == 1, Duration.ofSeconds(10)),
                        c.server(0).statistics().toString());

                // the client, trying meanwhile, reaches the server again: it no longer holds the session
                relay.refuse(false);
                IOException e = assertThrows(IOException.class, () -> s.getInputStream().read());
                assertTrue(e.getMessage().contains("no longer holds"), "the client's read says why: " + e.getMessage());
                assertTrue(Waits.until(() -> s.statistics().resumesFailed() == 1, Duration.ofSeconds(10)), s.statistics().toString());
            }
        }
    }

    @Test
    void aServerThatEndedTheSessionIsNotWaitedFor() throws Exception {
        try (Cluster c = new Cluster(1, i -> (sock, server) -> {
            sock.getOutputStream().write(7);
            sock.getInputStream().read();
        }); Relay relay = new Relay(c.address(0))) {
            c.server(0).setOption(MtcpOptions.RESUME_GRACE, Duration.ZERO); // resuming off at the server
            try (MtcpSocket s = new MtcpSocket(relay.address().getAddress(), relay.address().getPort())) {
                s.setSoTimeout(20_000);
                assertEquals(7, s.getInputStream().read());
                relay.cut(true);
                // the server ended the session at the reset, as plain TCP would: the client's resume hears so at once
                IOException e = assertThrows(IOException.class, () -> s.getInputStream().read());
                assertTrue(e.getMessage().startsWith("Connection reset") && e.getMessage().contains("no longer holds"),
                        "the client's read fails in the JDK's words, and says why: " + e.getMessage());
            }
        }
    }
}
