package org.mtcp.server.it;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationStatistics;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression test of a stall after a migration (first reproduced with the HTTP sample at full speed,
 * fixed in 956448f: acknowledgements of bytes the destination sends again are remembered, and the
 * bytes trimmed as they go out). The application is the thesis's: 64 KiB writes, the offset exported
 * after each, a trigger to the other server every 4 MiB a copy writes. After a migration the
 * destination's send window could fill with bytes the client already had (the origin's
 * unacknowledged tail, and the chunk written after the last export); the client dropped them as
 * duplicates without acknowledging anything new, the destination waited for an acknowledgement, and
 * the session stalled until the client's read timed out.
 *
 * <p>Every byte is checked, and so is that the server's triggers moved the session: the state a copy
 * exports also counts the migrations so far, and the stream goes on past {@link #TOTAL}, by
 * {@link #EXTEND} at a time, until {@link #MIN_MIGRATIONS} happened (up to {@link #CAP}). The
 * decision to go on is exported before any byte after it is written, so that a copy resuming from a
 * snapshot writes what the copy before it wrote (the application contract, thesis 3.3.2), whatever
 * migrations it has counted since. The client reads at full speed throughout,
 * as in the HTTP sample: it never waits for a migration (a paused client lets every acknowledgement
 * arrive before the session moves, and the stall is no longer reproduced).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DuplicateWindowStallTest {
    private static final int CHUNK = 64 << 10;
    private static final long TOTAL = 32L << 20;
    private static final long TRIGGER_EVERY = 4L << 20;
    private static final long MIN_MIGRATIONS = 3;
    /** How much longer the stream gets each time it reaches its end too early. */
    private static final long EXTEND = 4L << 20;
    /** Where the stream ends even if the session has not moved {@link #MIN_MIGRATIONS} times. */
    private static final long CAP = 512L << 20;
    /** The client's reads: 8 KiB, as InputStream.readNBytes makes them (the reads the stall was seen with). */
    private static final int READ = 8192;

    /** @return byte {@code i} of the stream: cheap, so that the server writes as fast as the HTTP sample's */
    private static byte streamByte(long i) {
        return (byte) (i * 31 >>> 3);
    }

    /**
     * @return where this copy starts: the offset, the migrations so far (this copy's arrival included;
     *         at least: a copy that moved on before its first export is not counted), the stream's end
     */
    private static long[] importState(Socket s) throws IOException {
        byte[] st = s.getOption(MtcpOptions.APP_STATE);
        if (st.length == 0) {
            return new long[] {0, 0, TOTAL};
        }
        ByteBuffer b = ByteBuffer.wrap(st);
        return new long[] {b.getLong(), b.getLong() + 1, b.getLong()};
    }

    private static void exportState(Socket s, long offset, long migrations, long end) throws IOException {
        s.setOption(MtcpOptions.APP_STATE, ByteBuffer.allocate(24).putLong(offset).putLong(migrations).putLong(end).array());
    }

    /** The server application, the same on both servers. */
    private static Cluster.App app(AtomicReference<Cluster> cluster) {
        return (s, server) -> {
            InetSocketAddress other = cluster.get().address(1 - server);
            OutputStream out = s.getOutputStream();
            long[] st = importState(s);
            long offset = st[0];
            long migrations = st[1];
            long end = st[2];
            long here = 0;
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
                    chunk[i] = streamByte(offset + i);
                }
                out.write(chunk);
                offset += CHUNK;
                here += CHUNK;
                exportState(s, offset, migrations, end);
                if (here % TRIGGER_EVERY == 0) {
                    s.setOption(MtcpOptions.TRIGGER, other);
                }
            }
            s.shutdownOutput();
            while (s.getInputStream().read() >= 0) {
                // until the client closes
            }
        };
    }

    @RepeatedTest(5) // the stall showed in about one run of three before the fix
    void resentBytesTheClientHasDoNotStallTheSession() throws Exception {
        AtomicReference<Cluster> cluster = new AtomicReference<>();
        try (Cluster c = new Cluster(2, i -> app(cluster))) {
            cluster.set(c);
            try (MtcpSocket s = new MtcpSocket()) {
                // listening before the connect: the first copy may trigger a migration at once
                ClientMigrations migrations = ClientMigrations.of(s);
                s.connect(c.address(0));
                s.setSoTimeout(10_000); // the stall shows as a read timeout
                InputStream in = s.getInputStream();
                byte[] buf = new byte[READ];
                long at = 0;
                while (true) {
                    int r;
                    try {
                        r = in.read(buf);
                    } catch (IOException e) {
                        throw new AssertionError("stalled at byte " + at + " after " + migrations.committed()
                                + " migrations; client " + s.debugState() + " " + s.statistics() + "; servers: "
                                + c.server(0).debugState() + c.server(1).debugState(), e);
                    }
                    if (r < 0) {
                        break;
                    }
                    for (int k = 0; k < r; k++) {
                        if (buf[k] != streamByte(at + k)) {
                            throw new AssertionError("byte " + (at + k) + " is " + buf[k] + ", expected " + streamByte(at + k)
                                    + " (after " + migrations.committed() + " migrations)");
                        }
                    }
                    at += r;
                }
                assertTrue(at >= TOTAL && at <= CAP && at % CHUNK == 0, "the stream ended at " + at);
                long committed = migrations.assertCommittedAtLeast(MIN_MIGRATIONS, MigrationEvent.Initiation.SERVER_TRIGGER, c);
                MigrationStatistics st = s.statistics();
                assertEquals(0, st.failed(), "no triggered migration failed: " + migrations.events());
                long resent = c.server(0).statistics().bytesResent() + c.server(1).statistics().bytesResent();
                assertTrue(resent > 0, "the destinations sent again bytes the client could already have (what stalled): "
                        + c.server(0).statistics() + " " + c.server(1).statistics());
                c.assertNoAppFailure();
                System.out.println("DuplicateWindowStallTest: " + at + " bytes, " + committed + " migrations; client " + st
                        + "; servers " + c.server(0).statistics() + " " + c.server(1).statistics());
            }
        }
    }
}
