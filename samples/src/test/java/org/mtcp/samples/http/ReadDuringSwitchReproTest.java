package org.mtcp.samples.http;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MigrationException;
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
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reproduces, without HTTP, a library failure {@link KeepAliveMigrationTest} hits: a client
 * application reading while its session switches servers gets
 * {@code java.nio.channels.ClosedChannelException} from {@code ChannelWaiter.await} (called by
 * {@code SessionCore.pump} from {@code read}) instead of its data. The server writes 4 KiB every
 * 2 ms, exporting the offset and triggering a migration to the other server after each write; the
 * client reads byte by byte. Seen with the core of commit 20afec0, in about 4 runs of 5.
 *
 * <p>A regression test: the library once failed it (fixed in SessionCore).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadDuringSwitchReproTest {
    private static final int CHUNK = 4096;
    private static final int TOTAL = 1 << 20;

    private static void serve(Socket s, InetSocketAddress other) {
        try (s) {
            OutputStream out = s.getOutputStream();
            byte[] state = s.getOption(MtcpOptions.APP_STATE);
            long offset = state.length == 0 ? 0 : ByteBuffer.wrap(state).getLong();
            byte[] chunk = new byte[CHUNK];
            while (offset < TOTAL) {
                for (int i = 0; i < CHUNK; i++) {
                    chunk[i] = (byte) (offset + i);
                }
                out.write(chunk);
                offset += CHUNK;
                s.setOption(MtcpOptions.APP_STATE, ByteBuffer.allocate(8).putLong(offset).array());
                try {
                    s.setOption(MtcpOptions.TRIGGER, other);
                } catch (MigrationException e) {
                    // a migration already under way
                }
                LockSupport.parkNanos(2_000_000);
            }
            s.getInputStream().read(); // until the client closes
        } catch (ConnectionMigratedException e) {
            // the session moved on
        } catch (IOException e) {
            System.err.println("server copy: " + e);
        }
    }

    @RepeatedTest(5)
    void byteByByteReadsDuringConstantMigrations() throws Exception {
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
                InetSocketAddress other = server == a ? sb : sa;
                server.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
                server.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(other));
                Thread acceptor = new Thread(() -> {
                    try {
                        while (true) {
                            Socket s = server.accept();
                            Thread t = new Thread(() -> serve(s, other));
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
                for (int i = 0; i < TOTAL; i++) {
                    assertEquals((byte) i & 0xff, in.read(), "byte " + i);
                }
            }
        }
    }
}
