package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Cluster;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An export keeps what the application passed at that moment, whatever the application does with its array later
 * (as setsockopt(2), which the thesis's export_state is, copies). The application here reuses one array for every
 * export and scribbles over it right after, across twenty migrations; every answer depends on the imported count,
 * so a state that was not copied shows as a wrong byte (checked: an export that keeps the caller's array fails at
 * the first migration).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExportCopyTest {
    private static final int MIGRATIONS = 20;
    private static final int BYTES_BETWEEN = 50;
    private static final int STATE_BYTES = 8;

    /** Answers each byte with the count of bytes the session has read so far (mod 256); exports the count after each. */
    private static final Cluster.App APP = (s, server) -> {
        byte[] imported = s.getOption(MtcpOptions.APP_STATE);
        long n = imported.length == 0 ? 0 : ByteBuffer.wrap(imported).getLong();
        byte[] mine = new byte[STATE_BYTES]; // one array for every export, as a server with a fixed-size state does
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        for (int b = in.read(); b >= 0; b = in.read()) {
            n++;
            out.write((int) (n & 0xff));
            ByteBuffer.wrap(mine).putLong(0, n);
            s.setOption(MtcpOptions.APP_STATE, mine);
            Arrays.fill(mine, (byte) 0x55); // the export must have copied: this must reach no server's state
        }
    };

    @Test
    void exportsKeepTheirValueAcrossMigrationsWhenTheApplicationReusesItsArray() throws Exception {
        try (Cluster c = new Cluster(2, i -> APP);
             MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            long sent = 0;
            for (int m = 0; m <= MIGRATIONS; m++) {
                for (int k = 0; k < BYTES_BETWEEN; k++) {
                    out.write(7);
                    out.flush();
                    sent++;
                    assertEquals((int) (sent & 0xff), in.read(), "the answer to byte " + sent + " after " + m
                            + " migrations: the count the server imported and counted on");
                }
                if (m < MIGRATIONS) {
                    s.migrate(c.address((m + 1) % 2));
                }
            }
            c.assertNoAppFailure();
        }
    }
}
