package org.mtcp.server.it;

import org.mtcp.client.MtcpSocket;
import org.mtcp.client.PassThroughSockets;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.ServerInternals;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The machinery of {@link DropInDifferentialTest}: the four worlds (which client socket, which
 * server socket), and the context a scenario runs in (its observations, its sockets and threads,
 * all closed at its end, every wait bounded).
 */
final class DiffKit {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    /** SO_TIMEOUT of every socket a scenario opens through {@link Ctx#pair()}: nothing blocks longer. */
    static final int SO_TIMEOUT = 3000;
    /**
     * Bound of every connect: the first MTCP handshake of a JVM loads the crypto classes and can
     * take a few seconds on a busy machine; a connect never takes that long otherwise.
     */
    static final int CONNECT_TIMEOUT = 10_000;
    /**
     * The detection delay of the {@link MtcpServerSocket} of {@link World#PLAIN_CLIENT} (the default
     * is 2 s): its clients never say hello, and most scenarios would wait that long for each.
     */
    static final long DETECT_MILLIS = 50;

    private DiffKit() {
    }

    /** Which sockets the application uses: the JDK's, the library's, or a mix. */
    enum World {
        /** {@code java.net.Socket} to {@code java.net.ServerSocket}: the oracle. */
        JDK,
        /** {@code MtcpSocket} to {@code MtcpServerSocket}: a migratable session. */
        MTCP,
        /** plain {@code java.net.Socket} to {@code MtcpServerSocket}: served as plain TCP. */
        PLAIN_CLIENT,
        /** the library's client impl for a destination that does not speak MTCP, to {@code java.net.ServerSocket}. */
        PASS_THROUGH;

        /** @return a new unconnected client socket of this world */
        Socket client() throws IOException {
            switch (this) {
                case MTCP:
                    return new MtcpSocket();
                case PASS_THROUGH:
                    return PassThroughSockets.create();
                default:
                    return new Socket();
            }
        }

        /** @return a new server socket of this world, bound to an ephemeral loopback port */
        ServerSocket server() throws IOException {
            switch (this) {
                case MTCP:
                    // the default detection delay: an MTCP client's hello may come late (the first
                    // key agreement of a JVM is slow), and it must not be taken for a plain client
                    return new MtcpServerSocket(0, 50, LO);
                case PLAIN_CLIENT:
                    MtcpServerSocket s = new MtcpServerSocket(0, 50, LO);
                    ServerInternals.server(s).setDetectMillis(DETECT_MILLIS);
                    return s;
                default:
                    return new ServerSocket(0, 50, LO);
            }
        }
    }

    /** A connected pair: the server socket, the client, and the socket the server accepted. */
    static final class Pair {
        final ServerSocket server;
        final Socket client;
        final Socket accepted;

        Pair(ServerSocket server, Socket client, Socket accepted) {
            this.server = server;
            this.client = client;
            this.accepted = accepted;
        }
    }

    /** Something to observe that may throw. */
    interface Action {
        Object run() throws Exception;
    }

    /** A thread of a scenario, with a bounded wait for its result. */
    static final class Job<T> {
        final Thread thread;
        private final FutureTask<T> task;

        Job(String name, Callable<T> body) {
            task = new FutureTask<>(body);
            thread = new Thread(task, "diff-" + name);
            thread.setDaemon(true);
        }

        /** @return the result, or an observation of how it failed or that it did not end within {@code millis} */
        String get(long millis) {
            try {
                return String.valueOf(task.get(millis, TimeUnit.MILLISECONDS));
            } catch (TimeoutException e) {
                return "still-blocked-after-" + millis + "ms";
            } catch (ExecutionException e) {
                return ex(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "test-interrupted";
            }
        }

        boolean done() {
            return task.isDone();
        }
    }

    /** What a scenario in one world sees, and what it must close. */
    static final class Ctx implements AutoCloseable {
        final World world;
        private final List<String> observations = Collections.synchronizedList(new ArrayList<>());
        private final List<AutoCloseable> resources = Collections.synchronizedList(new ArrayList<>());
        private final List<Job<?>> jobs = Collections.synchronizedList(new ArrayList<>());

        Ctx(World world) {
            this.world = world;
        }

        List<String> observations() {
            synchronized (observations) {
                return List.copyOf(observations);
            }
        }

        /** Records one observation. */
        void note(String label, Object value) {
            observations.add(label + "=" + value);
        }

        /** Writes {@code bytes} to {@code s} and records {@code ok} or how it failed ({@link #peerGone}). */
        void write(String label, Socket s, byte[] bytes) {
            attempt(label, () -> {
                try {
                    s.getOutputStream().write(bytes);
                    return "ok";
                } catch (IOException e) {
                    return peerGone(e);
                }
            });
        }

        /** Records what {@code a} returns, or the exception it throws. */
        void attempt(String label, Action a) {
            note(label, observe(a));
        }

        <T extends AutoCloseable> T closeLater(T r) {
            resources.add(r);
            return r;
        }

        Socket client() throws IOException {
            return closeLater(world.client());
        }

        ServerSocket server() throws IOException {
            return closeLater(world.server());
        }

        /** @return a connected pair, both sockets with {@link #SO_TIMEOUT} */
        Pair pair() throws Exception {
            return pair(client());
        }

        /** @return {@code client} (unconnected) connected to a new server of this world, both with {@link #SO_TIMEOUT} */
        Pair pair(Socket client) throws Exception {
            ServerSocket server = server();
            server.setSoTimeout(CONNECT_TIMEOUT);
            Job<Socket> accept = start("accept", server::accept);
            client.connect(new InetSocketAddress(LO, server.getLocalPort()), CONNECT_TIMEOUT);
            client.setSoTimeout(SO_TIMEOUT);
            Socket accepted;
            try {
                accepted = accept.task.get(CONNECT_TIMEOUT + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IOException("accept failed: " + ex(e.getCause()), e.getCause());
            }
            closeLater(accepted);
            accepted.setSoTimeout(SO_TIMEOUT);
            return new Pair(server, client, accepted);
        }

        /** Starts {@code body} on a thread of this scenario. */
        <T> Job<T> start(String name, Callable<T> body) {
            Job<T> j = new Job<>(name, body);
            jobs.add(j);
            j.thread.start();
            return j;
        }

        @Override
        public void close() {
            List<AutoCloseable> rs;
            synchronized (resources) {
                rs = new ArrayList<>(resources);
            }
            Collections.reverse(rs);
            for (AutoCloseable r : rs) {
                try {
                    r.close();
                } catch (Exception ignored) {
                    // closing is best effort: the scenario is over
                }
            }
            List<Job<?>> js;
            synchronized (jobs) {
                js = new ArrayList<>(jobs);
            }
            for (Job<?> j : js) {
                try {
                    j.thread.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** @return what {@code a} returned, or {@link #ex} of what it threw */
    static String observe(Action a) {
        try {
            return String.valueOf(a.run());
        } catch (Exception e) {
            return ex(e);
        }
    }

    /**
     * @return the exception's simple class name and the first words of its message, without the
     *         parts that name hosts, ports or identifiers (any word with a digit, a slash or a colon
     *         and all that follows)
     */
    static String ex(Throwable e) {
        StringBuilder b = new StringBuilder(e.getClass().getSimpleName());
        String m = e.getMessage();
        if (m != null) {
            List<String> words = new ArrayList<>();
            for (String w : m.trim().split("\\s+")) {
                if (words.size() == 5 || w.matches(".*[0-9/:\\[(<'\"].*")) {
                    break;
                }
                words.add(w.replaceAll("[.,;]+$", ""));
            }
            if (!words.isEmpty()) {
                b.append(": ").append(String.join(" ", words));
            }
        }
        return b.toString();
    }

    /**
     * Classifies a write that failed because the peer is gone: the JDK reports "Broken pipe" or
     * "Connection reset" depending on what the kernel saw first, so both read as {@code peer-gone}.
     */
    static String peerGone(Throwable e) {
        String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (m.contains("broken pipe") || m.contains("connection reset")) {
            return e.getClass().getSimpleName() + ": peer-gone";
        }
        return ex(e);
    }

    /** @return {@code n} bytes of a pattern */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 8));
        }
        return b;
    }

    /**
     * Reads to the end.
     *
     * @return {@code bytes=N} (and {@code corrupt} if they are not {@link #pattern}) then how the stream ended
     */
    static String readToEnd(InputStream in, long delayPerChunkMillis) {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        boolean intact = true;
        String end;
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    end = "-1";
                    break;
                }
                for (int i = 0; i < n && intact; i++) {
                    long k = total + i;
                    intact = buf[i] == (byte) (k * 31 + (k >>> 8));
                }
                total += n;
                if (delayPerChunkMillis > 0) {
                    Thread.sleep(delayPerChunkMillis);
                }
            }
        } catch (IOException | InterruptedException e) {
            end = ex(e);
        }
        return "bytes=" + total + (intact ? "" : " corrupt") + " end=" + end;
    }

    static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }
}
