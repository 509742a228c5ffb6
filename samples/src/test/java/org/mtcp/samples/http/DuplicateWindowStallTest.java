package org.mtcp.samples.http;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Reproduces, without HTTP, a library stall the web server hits at full speed. The application is
 * the thesis's: 64 KiB writes, the offset exported after each, a trigger to the other server every
 * 4 MiB a copy writes. Now and then, after a migration, the destination's send window fills with
 * bytes the client already has (the origin's unacknowledged tail, and the chunk written after the
 * last export); the client drops them as duplicates without acknowledging anything, the destination
 * waits for an acknowledgement, and the session stalls until the client's read times out.
 *
 * <p>A regression test: the library once failed it (fixed in SessionCore).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DuplicateWindowStallTest {
    private static final int CHUNK = 64 << 10;
    private static final long TOTAL = 32L << 20;
    private static final long TRIGGER_EVERY = 4L << 20;

    private static byte[] stream(long from, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ((from + i) * 31 >>> 3);
        }
        return b;
    }

    /** The server application, the same on both servers. */
    private static void serve(Socket s, InetSocketAddress other) {
        try (s) {
            OutputStream out = s.getOutputStream();
            byte[] state = s.getOption(MtcpOptions.APP_STATE);
            long offset = state.length == 0 ? 0 : ByteBuffer.wrap(state).getLong();
            long here = 0;
            while (offset < TOTAL) {
                int n = (int) Math.min(CHUNK, TOTAL - offset);
                out.write(stream(offset, n));
                offset += n;
                here += n;
                s.setOption(MtcpOptions.APP_STATE, ByteBuffer.allocate(8).putLong(offset).array());
                if (here % TRIGGER_EVERY == 0) {
                    s.setOption(MtcpOptions.TRIGGER, other);
                }
            }
            s.getInputStream().read(); // until the client closes
        } catch (ConnectionMigratedException e) {
            // the session moved on
        } catch (IOException e) {
            System.err.println("server copy: " + e);
        }
    }

    @RepeatedTest(3)
    void resentBytesTheClientHasDoNotStallTheSession() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (MtcpServerSocket a = new MtcpServerSocket(0, 50, lo); MtcpServerSocket b = new MtcpServerSocket(0, 50, lo)) {
            InetSocketAddress sa = new InetSocketAddress(lo, a.getLocalPort());
            InetSocketAddress sb = new InetSocketAddress(lo, b.getLocalPort());
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            try (ServerSocket free1 = new ServerSocket(0, 1, lo); ServerSocket free2 = new ServerSocket(0, 1, lo)) {
                mappings.put(sa, new InetSocketAddress(lo, free1.getLocalPort()));
                mappings.put(sb, new InetSocketAddress(lo, free2.getLocalPort()));
            }
            for (MtcpServerSocket server : List.of(a, b)) {
                server.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
                server.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(server == a ? sb : sa));
                Thread acceptor = new Thread(() -> {
                    try {
                        while (true) {
                            Socket s = server.accept();
                            Thread t = new Thread(() -> serve(s, server == a ? sb : sa));
                            t.setDaemon(true);
                            t.start();
                        }
                    } catch (IOException e) {
                        // closed
                    }
                });
                acceptor.setDaemon(true);
                acceptor.start();
            }
            try (MtcpSocket c = new MtcpSocket(lo, a.getLocalPort())) {
                c.setSoTimeout(10_000);
                InputStream in = c.getInputStream();
                byte[] got;
                try {
                    got = in.readNBytes((int) TOTAL);
                } catch (IOException e) {
                    throw new AssertionError("stalled after the migration; client " + c.debugState() + " " + c.statistics()
                            + "; servers: " + a.debugState() + b.debugState(), e);
                }
                assertArrayEquals(stream(0, (int) TOTAL), got);
                System.out.println("ok: " + c.statistics());
            }
        }
    }
}
