package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peers that spew garbage or stall, on a server's service port and on its control port, while a real session
 * streams and migrates between the two servers: the session stays byte-exact and keeps migrating, and every
 * garbage connection that claims to speak MTCP is closed by the server (the plain-looking ones are served as
 * plain clients, as any server would).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GarbagePeersTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final int ROUNDS = 20;

    @Test
    void garbageAndStallingPeersOnBothPortsDoNotDisturbALiveSession() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            InetSocketAddress control = (InetSocketAddress) c.mappings().get(c.address(0));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong spewed = new AtomicLong();
            List<Thread> spewers = new ArrayList<>();
            List<Socket> stalled = new ArrayList<>();
            try {
                for (int k = 0; k < 4; k++) {
                    long seed = 77 + k;
                    spewers.add(spew("service-mtcp-" + k, c.address(0), Wire.MAGIC, seed, stop, spewed));
                    spewers.add(spew("control-" + k, control, k % 2 == 0 ? Wire.CONTROL_MAGIC : new byte[0], seed, stop, spewed));
                }
                // stalls: half a magic, a header announcing more than any frame may hold, nothing at all
                stalled.add(stall(c.address(0), new byte[] {Wire.MAGIC[0], Wire.MAGIC[1], Wire.MAGIC[2]}));
                stalled.add(stall(c.address(0), concat(Wire.MAGIC, header(Wire.HELLO, Wire.MAX_LENGTH))));
                stalled.add(stall(control, concat(Wire.CONTROL_MAGIC, header(Wire.CTRL_HELLO, Wire.MAX_LENGTH))));
                stalled.add(stall(control, new byte[0]));
                stalled.add(stall(c.address(1), new byte[0]));

                long offset = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    Apps.echoRoundTrip(s, offset, 4000);
                    offset += 4000;
                    s.migrate(c.address((round + 1) % 2));
                }
                Apps.echoRoundTrip(s, offset, 4000);
                assertEquals(ROUNDS, s.statistics().committed(), "every migration committed: " + s.statistics());
                assertTrue(spewed.get() > 0, "garbage was sent");
            } finally {
                stop.set(true);
                for (Thread t : spewers) {
                    t.join(10_000);
                }
            }
            // the ones that claimed MTCP and broke it, or said nothing on the control port, are closed by the server;
            // half a magic (0) is a plain client after the detection wait, served as any server would
            for (int i = 1; i < stalled.size(); i++) {
                if (i == stalled.size() - 1) {
                    continue; // a silent client on the service port is a plain client waiting for its server: kept
                }
                assertTrue(closedByServer(stalled.get(i)), "stalling peer " + i + " is still connected");
            }
            for (Socket x : stalled) {
                x.close();
            }
        }
    }

    /** A peer that connects again and again and sends {@code opening} then random frames and bytes. */
    private static Thread spew(String name, InetSocketAddress to, byte[] opening, long seed, AtomicBoolean stop, AtomicLong spewed) {
        Thread t = new Thread(() -> {
            Random r = new Random(seed);
            for (int conn = 0; conn < 200 && !stop.get(); conn++) {
                try (Socket g = new Socket()) {
                    g.connect(to, 2000);
                    g.setSoTimeout(200);
                    OutputStream out = g.getOutputStream();
                    out.write(opening);
                    for (int f = 0; f < 20 && !stop.get(); f++) {
                        byte[] junk = new byte[r.nextInt(300)];
                        r.nextBytes(junk);
                        if (r.nextBoolean() && junk.length >= 4) {
                            ByteBuffer.wrap(junk).putInt((r.nextInt(0x50) << 24) | r.nextInt(junk.length)); // plausible header
                        }
                        out.write(junk);
                        spewed.addAndGet(junk.length);
                    }
                    drain(g.getInputStream());
                } catch (IOException e) {
                    // the server closed it: what it should do
                }
            }
        }, "garbage-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static Socket stall(InetSocketAddress to, byte[] first) throws IOException {
        Socket g = new Socket();
        g.connect(to, 2000);
        g.getOutputStream().write(first);
        return g;
    }

    /** @return whether the server ended the connection (end of stream or reset) within 15 s */
    private static boolean closedByServer(Socket g) {
        try {
            g.setSoTimeout(15_000);
            InputStream in = g.getInputStream();
            byte[] b = new byte[1024];
            while (in.read(b) >= 0) {
                // an ERROR frame may come first
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static void drain(InputStream in) {
        byte[] b = new byte[4096];
        try {
            while (in.read(b) >= 0) {
                // what the server answers, if anything
            }
        } catch (IOException e) {
            // closed, reset, or nothing within the timeout
        }
    }

    private static byte[] header(int type, int length) {
        return ByteBuffer.allocate(4).putInt((type << 24) | length).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
