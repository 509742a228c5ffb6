package org.mtcp.server.it;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.ClientMigrations;
import org.mtcp.server.testkit.Cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression test of a client read racing a switch of connection (first reproduced by the HTTP
 * sample's keep-alive test, fixed in 956448f): a client application reading while its session
 * switched servers got {@code java.nio.channels.ClosedChannelException} from
 * {@code ChannelWaiter.await} (called by {@code SessionCore.pump} from {@code read}) instead of its
 * data. The server writes 4 KiB every 2 ms, exporting the offset and triggering a migration to the
 * other server after each write; the client reads byte by byte, so it is nearly always in a read
 * when the session switches. Seen with the core of commit 20afec0 in about 4 runs of 5.
 *
 * <p>Every byte is checked, and so is that the session kept moving: the state a copy exports also
 * counts the migrations so far, and the stream goes on past {@link #TOTAL}, by {@link #EXTEND} at a
 * time, until {@link #MIN_MIGRATIONS} happened (up to {@link #CAP}); the client never waits for one.
 * The decision to go on is exported before any byte after it is written, so that a copy resuming
 * from a snapshot writes what the copy before it wrote (the application contract, thesis 3.3.2).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadDuringSwitchTest {
    private static final int CHUNK = 4096;
    private static final long TOTAL = 1 << 20;
    private static final long MIN_MIGRATIONS = 10;
    /** How much longer the stream gets each time it reaches its end too early. */
    private static final long EXTEND = 64 << 10;
    /** Where the stream ends even if the session has not moved {@link #MIN_MIGRATIONS} times. */
    private static final long CAP = 4L << 20;

    private static void exportState(Socket s, long offset, long migrations, long end) throws IOException {
        s.setOption(MtcpOptions.APP_STATE, ByteBuffer.allocate(24).putLong(offset).putLong(migrations).putLong(end).array());
    }

    private static Cluster.App app(AtomicReference<Cluster> cluster) {
        return (s, server) -> {
            InetSocketAddress other = cluster.get().address(1 - server);
            OutputStream out = s.getOutputStream();
            byte[] state = s.getOption(MtcpOptions.APP_STATE);
            ByteBuffer st = ByteBuffer.wrap(state);
            long offset = state.length == 0 ? 0 : st.getLong();
            long migrations = state.length == 0 ? 0 : st.getLong() + 1; // this copy arrived by one (at least)
            long end = state.length == 0 ? TOTAL : st.getLong();
            byte[] chunk = new byte[CHUNK];
            while (true) {
                if (offset == end) {
                    if (migrations >= MIN_MIGRATIONS || end >= CAP) {
                        break;
                    }
                    end += EXTEND;
                    exportState(s, offset, migrations, end); // decided before a byte past the old end is written
                }
                for (int i = 0; i < CHUNK; i++) {
                    chunk[i] = (byte) (offset + i);
                }
                out.write(chunk);
                offset += CHUNK;
                exportState(s, offset, migrations, end);
                try {
                    s.setOption(MtcpOptions.TRIGGER, other);
                } catch (MigrationException e) {
                    // the trigger before this one is still on its way
                }
                LockSupport.parkNanos(2_000_000); // the application's pace, part of what is reproduced
            }
            s.shutdownOutput();
            while (s.getInputStream().read() >= 0) {
                // until the client closes
            }
        };
    }

    @RepeatedTest(5)
    void byteByByteReadsDuringConstantMigrations() throws Exception {
        AtomicReference<Cluster> cluster = new AtomicReference<>();
        try (Cluster c = new Cluster(2, i -> app(cluster))) {
            cluster.set(c);
            try (MtcpSocket s = new MtcpSocket()) {
                // listening before the connect: the first copy may trigger a migration at once
                ClientMigrations migrations = ClientMigrations.of(s);
                s.connect(c.address(0));
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                long i = 0;
                while (true) {
                    int b;
                    try {
                        b = in.read();
                    } catch (IOException e) {
                        throw new AssertionError("read of byte " + i + " failed after " + migrations.committed()
                                + " migrations; client " + s.debugState(), e);
                    }
                    if (b < 0) {
                        break;
                    }
                    if (b != ((byte) i & 0xff)) {
                        throw new AssertionError("byte " + i + " is " + b + ", expected " + ((byte) i & 0xff) + " (after "
                                + migrations.committed() + " migrations)");
                    }
                    i++;
                }
                assertTrue(i >= TOTAL && i <= CAP && i % CHUNK == 0, "the stream ended at " + i);
                long committed = migrations.assertCommittedAtLeast(MIN_MIGRATIONS, MigrationEvent.Initiation.SERVER_TRIGGER, c);
                c.assertNoAppFailure();
                System.out.println("ReadDuringSwitchTest: " + i + " bytes, " + committed + " migrations; client "
                        + s.statistics());
            }
        }
    }
}
