package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.session.Settings;
import org.mtcp.server.SessionInfo;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that stops reading holds the server within its windows (the robustness issue's load item): the
 * server application's writes to it block once the client's credit and the server's send buffer are full
 * ({@code mtcp.receiveWindow + mtcp.sendWindow} in all), while the other sessions of the same server stream
 * on, byte-exact.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StalledClientTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final int STREAMERS = 4;
    private static final long EACH = 8L << 20;

    @Test
    void aClientThatStopsReadingBlocksOnlyItsOwnWriterWithinTheWindows() throws Exception {
        try (Cluster c = new Cluster(1, i -> (s, server) -> {
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[16 * 1024];
            long at = 0;
            while (true) { // until the client goes
                for (int k = 0; k < chunk.length; k++) {
                    chunk[k] = Apps.streamByte(5, at + k);
                }
                out.write(chunk);
                at += chunk.length;
            }
        }); MtcpSocket stalled = new MtcpSocket(LO, c.address(0).getPort())) {
            stalled.setSoTimeout(20_000);
            assertTrue(Waits.until(() -> c.server(0).sessions().size() == 1, Duration.ofSeconds(10)));
            String stalledId = c.server(0).sessions().get(0).id();
            List<Background<Long>> streams = new ArrayList<>();
            List<MtcpSocket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < STREAMERS; i++) {
                    MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort());
                    s.setSoTimeout(20_000);
                    clients.add(s);
                    streams.add(Background.start("streamer " + i, () -> readChecked(s.getInputStream(), EACH)));
                }
                for (int i = 0; i < STREAMERS; i++) {
                    assertEquals(EACH, streams.get(i).await(Duration.ofSeconds(90)), "streamer " + i + " read it all");
                }
                long bound = (long) Settings.SEND_WINDOW + Settings.RECEIVE_WINDOW;
                SessionInfo held = c.server(0).sessions().stream().filter(s -> s.id().equals(stalledId)).findFirst().orElseThrow();
                assertTrue(held.bytesWritten() <= bound, "the stalled session's writer got " + held.bytesWritten()
                        + " bytes past a client that reads nothing; the windows allow " + bound);
                assertTrue(held.bytesWritten() > 0, "its writer wrote until the windows were full: " + held);
                // and the stalled client, reading at last, gets every byte in order
                assertEquals(held.bytesWritten(), readChecked(stalled.getInputStream(), held.bytesWritten()));
            } finally {
                for (MtcpSocket s : clients) {
                    s.close();
                }
            }
        }
    }

    private static long readChecked(InputStream in, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long at = 0;
        while (at < n) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n - at));
            if (r < 0) {
                throw new IOException("end of stream at " + at + " of " + n);
            }
            for (int k = 0; k < r; k++) {
                if (buf[k] != Apps.streamByte(5, at + k)) {
                    throw new AssertionError("byte " + (at + k) + " is " + buf[k] + ", expected " + Apps.streamByte(5, at + k));
                }
            }
            at += r;
        }
        return at;
    }
}
