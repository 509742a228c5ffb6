package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.internal.ServerSession;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client whose application reads nothing keeps acknowledging what its new server sends after each switch: its I/O
 * loop takes the bytes into the receive buffer and acknowledges them after the ACK delay. The server trickles 100
 * bytes every 20 ms and each migration starts right after a chunk arrived, while the client's acknowledgement of it is
 * due. A switch that sends no acknowledgement of its own (the MIGRATE_REQ told the destination what the client holds)
 * must not leave that due time behind: a stale one kept every later acknowledgement from being scheduled, and the
 * destination would hold its bytes unacknowledged until a quarter of the window had arrived (and, after
 * {@code mtcp.heartbeatMillis} of silence, take the link for broken).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AckAfterSwitchRaceTest {
    private static final int MIGRATIONS = 40;
    private static final int CHUNK = 100;
    private static final long SEED = 23;

    /** Writes the pattern from the imported offset, CHUNK bytes every 20 ms, exporting the offset after each. */
    private static void trickle(Socket s, int server) throws IOException {
        long offset = Apps.importCount(s);
        byte[] b = new byte[CHUNK];
        try {
            while (true) {
                offset = Apps.writeStreamChunk(s, SEED, offset, b);
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int buffered(InputStream in) {
        try {
            return in.available();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aClientThatReadsNothingStillAcknowledgesEachNewServer() throws Exception {
        try (Cluster c = new Cluster(2, i -> AckAfterSwitchRaceTest::trickle);
             MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream(); // never read: the bytes stay in the receive buffer
            for (int i = 0; i < MIGRATIONS; i++) {
                int to = (i + 1) % 2;
                int before = in.available();
                assertTrue(Waits.until(() -> buffered(in) >= before + CHUNK, Duration.ofSeconds(10)),
                        "the stream flows before migration " + i);
                s.migrate(c.address(to)); // right after a chunk: its acknowledgement is due
                int arrived = in.available();
                assertTrue(Waits.until(() -> buffered(in) >= arrived + 3 * CHUNK, Duration.ofSeconds(10)),
                        "the stream flows at S" + (to + 1) + " after migration " + i + ": " + in.available() + " bytes");
                long held = in.available(); // nothing was read: every byte the client holds
                List<ServerSession> at = ServerInternals.server(c.server(to)).sessions();
                assertEquals(1, at.size(), "the session is at S" + (to + 1) + ": " + at);
                ServerSession session = at.get(0);
                assertTrue(Waits.until(() -> session.acknowledgedOffset() >= held, Duration.ofSeconds(5)),
                        "migration " + i + ": S" + (to + 1) + " heard the client acknowledge " + session.acknowledgedOffset()
                                + " of the " + held + " bytes it holds; client " + s.debugState());
            }
            byte[] all = new byte[in.available()];
            int n = 0;
            while (n < all.length) {
                n += in.read(all, n, all.length - n);
            }
            for (int k = 0; k < all.length; k++) {
                if (all[k] != Apps.streamByte(SEED, k)) {
                    throw new AssertionError("byte " + k + " is " + all[k] + ", expected " + Apps.streamByte(SEED, k));
                }
            }
            c.assertNoAppFailure();
        }
    }
}
