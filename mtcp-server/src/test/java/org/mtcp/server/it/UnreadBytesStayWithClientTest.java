package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client's bytes that the origin's application has not read yet are not carried in the state: the origin
 * releases client bytes only as its application reads them, the client keeps the rest and sends them to the
 * destination after the switch. The origin's application reads {@link #READ} bytes, exporting at {@link #SNAP},
 * and waits with {@link #SENT} {@code - READ} more bytes held unread ({@code available()} says so before the
 * migration starts); the state then carries exactly the read log, {@code READ - SNAP} bytes (with every held byte
 * it carried {@code SENT - SNAP}), and the destination's application reads every byte after the snapshot once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnreadBytesStayWithClientTest {
    private static final int SENT = 600 << 10;
    private static final int SNAP = 64 << 10;
    private static final int READ = 100 << 10;

    private static byte at(long offset) {
        return (byte) (offset * 31 + (offset >>> 9));
    }

    private static void readExactly(InputStream in, long from, int n) throws IOException {
        byte[] buf = new byte[8192];
        long offset = from;
        while (offset < from + n) {
            int got = in.read(buf, 0, (int) Math.min(buf.length, from + n - offset));
            if (got < 0) {
                throw new IOException("end of stream at byte " + offset + ", expected " + (from + n));
            }
            for (int i = 0; i < got; i++) {
                if (buf[i] != at(offset + i)) {
                    throw new IOException("byte " + (offset + i) + " is " + buf[i] + ", expected " + at(offset + i));
                }
            }
            offset += got;
        }
    }

    @Test
    void aMigrationCarriesTheReadLogAndNotTheUnreadBytes() throws Exception {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch moved = new CountDownLatch(1);
        Cluster.App app = (s, server) -> {
            InputStream in = s.getInputStream();
            byte[] state = s.getOption(MtcpOptions.APP_STATE);
            if (state.length == 0) {
                readExactly(in, 0, SNAP);
                s.setOption(MtcpOptions.APP_STATE, ByteBuffer.allocate(8).putLong(SNAP).array());
                readExactly(in, SNAP, READ - SNAP);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (in.available() < SENT - READ && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(1_000_000); // until every byte the client sent is held here, unread
                }
                holding.countDown();
                try {
                    moved.await(30, TimeUnit.SECONDS); // holds them unread until the session moved
                } catch (InterruptedException e) {
                    return;
                }
                s.getOutputStream().write(0); // ends this copy with ConnectionMigratedException
                throw new IOException("the origin's copy could still write after the migration");
            }
            long from = ByteBuffer.wrap(state).getLong();
            readExactly(in, from, SENT - (int) from);
            new DataOutputStream(s.getOutputStream()).writeLong(from);
            s.getOutputStream().flush();
        };
        try (Cluster c = new Cluster(2, i -> app); MtcpSocket s = new MtcpSocket()) {
            s.connect(c.address(0));
            s.setSoTimeout(20_000);
            byte[] all = new byte[SENT];
            for (int i = 0; i < SENT; i++) {
                all[i] = at(i);
            }
            s.getOutputStream().write(all);
            assertTrue(holding.await(20, TimeUnit.SECONDS), "the origin's application never saw the bytes arrive");
            Socket origin = c.live(0).get(0);
            assertEquals(SENT - READ, origin.getInputStream().available(), "bytes the origin holds unread");

            s.migrate(c.address(1));
            // the client switches on the destination's answer; the origin lets go of its copy when the destination's
            // commit reaches it on the control connection, which may be later: its report says it has
            assertTrue(Waits.until(() -> c.events.stream().anyMatch(e -> e.role() == MigrationEvent.Role.ORIGIN && e.committed()),
                    Duration.ofSeconds(10)), "the origin never reported the commit: " + c.events);
            moved.countDown();
            assertEquals(SNAP, new DataInputStream(s.getInputStream()).readLong(),
                    "the destination's application resumed at the snapshot and read every later byte once");

            Waits.until(() -> arrivals(c).size() == 1, Duration.ofSeconds(10)); // the report may trail the switch
            List<MigrationEvent> arrivals = arrivals(c);
            assertEquals(1, arrivals.size(), "arrivals: " + c.events);
            assertEquals(READ - SNAP, arrivals.get(0).replayedBytes(),
                    "client bytes in the state: the read log only (all held bytes would be " + (SENT - SNAP) + ")");
            c.assertNoAppFailure();
        }
    }

    private static List<MigrationEvent> arrivals(Cluster c) {
        return c.events.stream().filter(e -> e.role() == MigrationEvent.Role.DESTINATION && e.committed()).toList();
    }
}
