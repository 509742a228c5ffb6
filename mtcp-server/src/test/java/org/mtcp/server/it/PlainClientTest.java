package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clients that do not speak MTCP are served by the same server code, as plain non-migratable connections. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlainClientTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Test
    void plainClientIsServedWithTheSameApplication() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); Socket plain = new Socket(LO, c.address(0).getPort())) {
            plain.setSoTimeout(20_000);
            byte[] up = new byte[100_000];
            for (int k = 0; k < up.length; k++) {
                up[k] = Apps.streamByte(5, k);
            }
            OutputStream out = plain.getOutputStream();
            InputStream in = plain.getInputStream();
            out.write(up);
            byte[] got = new byte[up.length];
            Apps.readFully(in, got);
            for (int k = 0; k < up.length; k++) {
                assertEquals(Apps.transform(up[k], k), got[k], "byte " + k);
            }
            Socket accepted = c.live(0).get(0);
            assertFalse(accepted.getOption(MtcpOptions.MIGRATED));
            assertEquals(8 + 8, accepted.getOption(MtcpOptions.APP_STATE).length, "APP_STATE works for plain clients too");
            MigrationException e = assertThrows(MigrationException.class, () -> accepted.setOption(MtcpOptions.TRIGGER, null));
            assertEquals(MigrationException.Reason.INVALID_STATE, e.reason());
            assertTrue(e.getMessage().contains("plain TCP"), e.getMessage());
            plain.shutdownOutput();
            assertEquals(-1, in.read());
            c.assertNoAppFailure();
        }
    }

    @Test
    void plainClientOfAProtocolWhereTheServerSpeaksFirst() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (Cluster c = new Cluster(1, i -> (s, server) -> {
            s.getOutputStream().write("220 hello\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] b = new byte[4];
            Apps.readFully(s.getInputStream(), b);
            if (!new String(b, StandardCharsets.US_ASCII).equals("QUIT")) {
                failure.set(new AssertionError("read " + new String(b, StandardCharsets.US_ASCII)));
            }
        }); Socket plain = new Socket(LO, c.address(0).getPort())) {
            plain.setSoTimeout(20_000);
            byte[] greeting = new byte[11];
            Apps.readFully(plain.getInputStream(), greeting);
            assertArrayEquals("220 hello\r\n".getBytes(StandardCharsets.US_ASCII), greeting);
            plain.getOutputStream().write("QUIT".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, plain.getInputStream().read());
            assertEquals(null, failure.get());
            c.assertNoAppFailure();
        }
    }
}
