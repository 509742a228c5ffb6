package org.mtcp.server.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on loopback that a test can break as a network breaks a connection: every connection it
 * accepts is forwarded to one target, byte for byte, until {@link #cut} ends every relayed connection at
 * once, with a reset on both sides (a middlebox's reset, a NAT that forgot the flow) or with a FIN (the
 * connection ends without the library's end of stream). {@link #refuse} makes new connections fail, as a
 * host that is gone.
 */
public final class Relay implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Socket[]> pairs = new CopyOnWriteArrayList<>();
    /** Relayed connections whose bytes are dropped both ways: a path gone silent. */
    private final java.util.Set<Socket[]> silenced = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong relayed = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Thread acceptor;
    private volatile boolean refusing;

    /** Starts relaying from an ephemeral port of 127.0.0.1 to {@code target}. */
    public Relay(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "relay to " + target);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** @return where clients connect */
    public InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
    }

    /** @return connections accepted so far */
    public int accepted() {
        return accepted.get();
    }

    /** @return connections being relayed now */
    public int live() {
        return pairs.size();
    }

    /**
     * Silences every connection relayed now: from here on their bytes are dropped both ways, and neither end is
     * told (the kernel still acknowledges the segments, as a path that loses the session's frames would not be
     * noticed by TCP alone).
     *
     * @return how many connections went silent
     */
    public int silence() {
        int n = 0;
        for (Socket[] p : pairs) {
            if (silenced.add(p)) {
                n++;
            }
        }
        return n;
    }

    /** @return bytes relayed so far, both ways */
    public long relayed() {
        return relayed.get();
    }

    /** @param on whether new connections are closed at once with a reset (the far side looks gone) */
    public void refuse(boolean on) {
        refusing = on;
    }

    /**
     * Ends every relayed connection now.
     *
     * @param reset a reset on both sides ({@code SO_LINGER} 0), else an orderly close (a FIN each way)
     * @return how many connections were cut
     */
    public int cut(boolean reset) {
        int n = 0;
        for (Socket[] p : pairs) {
            pairs.remove(p);
            for (Socket s : p) {
                close(s, reset);
            }
            n++;
        }
        return n;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket in;
            try {
                in = listener.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            if (refusing) {
                close(in, true);
                continue;
            }
            Socket out = new Socket();
            try {
                out.connect(target, 5000);
            } catch (IOException e) {
                close(in, true);
                continue;
            }
            Socket[] pair = {in, out};
            pairs.add(pair);
            pipe(in, out, pair);
            pipe(out, in, pair);
        }
    }

    private void pipe(Socket from, Socket to, Socket[] pair) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream i = from.getInputStream()) {
                OutputStream o = to.getOutputStream();
                int n;
                while ((n = i.read(buf)) >= 0) {
                    if (silenced.contains(pair)) {
                        continue;
                    }
                    o.write(buf, 0, n);
                    relayed.addAndGet(n);
                }
                if (!silenced.contains(pair)) {
                    to.shutdownOutput(); // an end of stream goes through as one
                }
            } catch (IOException e) {
                // cut, or the other side reset: reset this side too, as a broken path does
                if (pairs.remove(pair)) {
                    close(pair[0], true);
                    close(pair[1], true);
                }
            }
        }, "relay " + from.getPort() + " -> " + to.getPort());
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s, boolean reset) {
        try {
            if (reset) {
                s.setSoLinger(true, 0);
            }
            s.close();
        } catch (SocketException ignored) {
            // closed already
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        cut(true);
    }
}
