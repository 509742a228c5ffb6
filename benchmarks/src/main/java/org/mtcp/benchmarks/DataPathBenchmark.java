package org.mtcp.benchmarks;

import org.mtcp.api.MtcpOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * What MTCP costs when nothing migrates: {@link org.mtcp.client.MtcpSocket} with an MTCP server
 * against plain {@link Socket} with a plain {@link java.net.ServerSocket}, on loopback. The
 * applications are the same code for both and leave socket options at the JDK's defaults (the
 * library may set its own on the connections it makes).
 * <ul>
 *   <li>{@code download*}: the server application streams {@code chunk}-byte writes to the client
 *       (the thesis's stream server, figure 5.4); with {@code snapshot} it exports an 8-byte state
 *       (the chunk count) after every write. One operation = the client reads 1 MiB, so the score
 *       in ops/s is MiB/s.</li>
 *   <li>{@code upload*}: the client writes 1 MiB in {@code chunk}-byte writes; the server reads and
 *       discards. Score in MiB/s.</li>
 *   <li>{@code pingPong*}: one byte to the server and back (echo), microseconds.</li>
 *   <li>{@code roundRobin*}: a 1-byte echo on the next of {@code sessions} connections, each idle in between
 *       (many quiet request/response connections), microseconds.</li>
 *   <li>{@code splitResponse*}: a 100-byte request, a response in two writes (150 B, 1 KiB) with
 *       every option at its default (Nagle on), microseconds.</li>
 *   <li>{@code connect*}: connect (with the MTCP handshake), the server closes at once, the client
 *       reads the end of stream and closes: microseconds.</li>
 * </ul>
 */
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DataPathBenchmark {

    /** One operation of the throughput benchmarks moves this many bytes. */
    public static final int MIB = 1 << 20;

    // ---------------------------------------------------------------- download (server writes)

    /** The stream-server application: chunk after chunk, optionally exporting after each. */
    static Acceptor.App streamer(int chunk, boolean snapshot, boolean noDelay) {
        return s -> {
            if (noDelay) {
                s.setTcpNoDelay(true);
            }
            byte[] buf = new byte[chunk];
            OutputStream out = s.getOutputStream();
            long n = 0;
            while (true) {
                out.write(buf);
                if (snapshot) {
                    n++;
                    s.setOption(MtcpOptions.APP_STATE, new byte[]{
                            (byte) (n >>> 56), (byte) (n >>> 48), (byte) (n >>> 40), (byte) (n >>> 32),
                            (byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
                }
            }
        };
    }

    /** A client reading what a streaming server writes. */
    public abstract static class Download {
        BenchServer server;
        Socket client;
        InputStream in;
        final byte[] buf = new byte[64 * 1024];

        void start(boolean mtcp, int chunk, boolean snapshot, boolean noDelay) throws IOException {
            server = BenchServer.start(mtcp, streamer(chunk, snapshot, noDelay));
            client = server.connect();
            in = client.getInputStream();
        }

        /**
         * Reads 1 MiB.
         *
         * @return bytes read
         * @throws IOException when the stream fails
         */
        public int readMiB() throws IOException {
            int left = MIB;
            while (left > 0) {
                int r = in.read(buf, 0, Math.min(left, buf.length));
                if (r < 0) {
                    throw new IOException("end of stream");
                }
                left -= r;
            }
            return MIB;
        }

        /** Closes client and server. */
        @TearDown(Level.Trial)
        public void stop() {
            Acceptor.closeQuietly(client);
            server.close();
        }
    }

    /**
     * Download from a plain server to a plain client. The baseline is the JDK's defaults
     * ({@code noDelay = false}: Nagle coalesces small writes); {@code noDelay = true} sets
     * {@code TCP_NODELAY} on the server's socket, one segment per write, for reference.
     */
    @State(Scope.Benchmark)
    public static class PlainDownload extends Download {
        /** Bytes per server write. */
        @Param({"1024", "65536"})
        public int chunk;

        /** Whether the server's socket has {@code TCP_NODELAY}. */
        @Param({"false", "true"})
        public boolean noDelay;

        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(false, chunk, false, noDelay);
        }
    }

    /** Download from an MTCP server to an MTCP client. */
    @State(Scope.Benchmark)
    public static class MtcpDownload extends Download {
        /** Bytes per server write. */
        @Param({"1024", "65536"})
        public int chunk;

        /** Whether the server exports an 8-byte state after every write. */
        @Param({"false", "true"})
        public boolean snapshot;

        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(true, chunk, snapshot, false);
        }
    }

    /**
     * @param s plain connection
     * @return bytes read
     * @throws IOException when the stream fails
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int downloadPlain(PlainDownload s) throws IOException {
        return s.readMiB();
    }

    /**
     * @param s MTCP connection
     * @return bytes read
     * @throws IOException when the stream fails
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int downloadMtcp(MtcpDownload s) throws IOException {
        return s.readMiB();
    }

    // ---------------------------------------------------------------- upload (client writes)

    /** The sink application: reads and discards. */
    static Acceptor.App sink() {
        return s -> {
            byte[] buf = new byte[64 * 1024];
            InputStream in = s.getInputStream();
            while (in.read(buf) >= 0) {
                // discard
            }
        };
    }

    /** A client writing to a sink. */
    public abstract static class Upload {
        BenchServer server;
        Socket client;
        OutputStream out;
        byte[] buf;

        void start(boolean mtcp, int chunk) throws IOException {
            buf = new byte[chunk];
            server = BenchServer.start(mtcp, sink());
            client = server.connect();
            out = client.getOutputStream();
        }

        /**
         * Writes 1 MiB.
         *
         * @return bytes written
         * @throws IOException when the stream fails
         */
        public int writeMiB() throws IOException {
            for (int left = MIB; left > 0; left -= buf.length) {
                out.write(buf, 0, Math.min(left, buf.length));
            }
            out.flush();
            return MIB;
        }

        /** Closes client and server. */
        @TearDown(Level.Trial)
        public void stop() {
            Acceptor.closeQuietly(client);
            server.close();
        }
    }

    /** Upload from a plain client to a plain server. */
    @State(Scope.Benchmark)
    public static class PlainUpload extends Upload {
        /** Bytes per client write. */
        @Param({"1024", "65536"})
        public int chunk;

        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(false, chunk);
        }
    }

    /** Upload from an MTCP client to an MTCP server. */
    @State(Scope.Benchmark)
    public static class MtcpUpload extends Upload {
        /** Bytes per client write. */
        @Param({"1024", "65536"})
        public int chunk;

        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(true, chunk);
        }
    }

    /**
     * @param s plain connection
     * @return bytes written
     * @throws IOException when the stream fails
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int uploadPlain(PlainUpload s) throws IOException {
        return s.writeMiB();
    }

    /**
     * @param s MTCP connection
     * @return bytes written
     * @throws IOException when the stream fails
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int uploadMtcp(MtcpUpload s) throws IOException {
        return s.writeMiB();
    }

    // ---------------------------------------------------------------- ping-pong

    /** The echo application: one byte back for every byte. */
    static Acceptor.App echo() {
        return s -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                out.write(b);
                out.flush();
            }
        };
    }

    /** A client of an echo server. */
    public abstract static class Echo {
        BenchServer server;
        Socket client;
        InputStream in;
        OutputStream out;

        void start(boolean mtcp) throws IOException {
            server = BenchServer.start(mtcp, echo());
            client = server.connect();
            in = client.getInputStream();
            out = client.getOutputStream();
        }

        /**
         * One byte there and back.
         *
         * @return the byte read
         * @throws IOException when the echo fails
         */
        public int pingPong() throws IOException {
            out.write(1);
            out.flush();
            int r = in.read();
            if (r != 1) {
                throw new IOException("echo returned " + r);
            }
            return r;
        }

        /** Closes client and server. */
        @TearDown(Level.Trial)
        public void stop() {
            Acceptor.closeQuietly(client);
            server.close();
        }
    }

    /** Plain echo. */
    @State(Scope.Benchmark)
    public static class PlainEcho extends Echo {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(false);
        }
    }

    /** MTCP echo. */
    @State(Scope.Benchmark)
    public static class MtcpEcho extends Echo {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(true);
        }
    }

    /**
     * @param s plain connection
     * @return the byte echoed
     * @throws IOException when the echo fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int pingPongPlain(PlainEcho s) throws IOException {
        return s.pingPong();
    }

    /**
     * @param s MTCP connection
     * @return the byte echoed
     * @throws IOException when the echo fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int pingPongMtcp(MtcpEcho s) throws IOException {
        return s.pingPong();
    }

    // ---------------------------------------------------------------- many sessions, each one request now and then

    /**
     * Many connections to one echo server, a thread per connection at the server (as {@code java.net} servers are
     * written), used in turn: each operation is a 1-byte echo on the next connection, so each one is idle between its
     * requests for the time the other {@code sessions - 1} take (~100 ms at 2,000). What it measures is the cost of
     * many quiet request/response connections: the work the library's I/O thread does per connection while its
     * application thread waits for the next request, on top of the echo itself.
     */
    @State(Scope.Benchmark)
    public abstract static class RoundRobin {
        /** Connections used in turn. */
        @Param({"2000"})
        public int sessions;
        BenchServer server;
        Socket[] clients;
        InputStream[] ins;
        OutputStream[] outs;
        int next;

        void start(boolean mtcp) throws IOException {
            server = BenchServer.start(mtcp, echo());
            clients = new Socket[sessions];
            ins = new InputStream[sessions];
            outs = new OutputStream[sessions];
            for (int i = 0; i < sessions; i++) {
                clients[i] = server.connect();
                ins[i] = clients[i].getInputStream();
                outs[i] = clients[i].getOutputStream();
            }
        }

        /**
         * One byte there and back on the next connection.
         *
         * @return the byte read
         * @throws IOException when the echo fails
         */
        public int echoNext() throws IOException {
            int i = next;
            next = i + 1 == sessions ? 0 : i + 1;
            outs[i].write(1);
            outs[i].flush();
            int r = ins[i].read();
            if (r != 1) {
                throw new IOException("echo on connection " + i + " returned " + r);
            }
            return r;
        }

        /** Closes the clients and the server. */
        @TearDown(Level.Trial)
        public void stop() {
            if (clients != null) {
                for (Socket c : clients) {
                    Acceptor.closeQuietly(c);
                }
            }
            server.close();
        }
    }

    /** Plain connections used in turn. */
    @State(Scope.Benchmark)
    public static class PlainRoundRobin extends RoundRobin {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(false);
        }
    }

    /** MTCP connections used in turn. */
    @State(Scope.Benchmark)
    public static class MtcpRoundRobin extends RoundRobin {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(true);
        }
    }

    /**
     * @param s plain connections
     * @return the byte echoed
     * @throws IOException when the echo fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 10, time = 1) // 4,000 threads: the JIT takes longer to settle than with one connection
    @Measurement(iterations = 8, time = 1)
    public int roundRobinPlain(PlainRoundRobin s) throws IOException {
        return s.echoNext();
    }

    /**
     * @param s MTCP connections
     * @return the byte echoed
     * @throws IOException when the echo fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 10, time = 1) // 4,000 threads: the JIT takes longer to settle than with one connection
    @Measurement(iterations = 8, time = 1)
    public int roundRobinMtcp(MtcpRoundRobin s) throws IOException {
        return s.echoNext();
    }

    // ---------------------------------------------------------------- request/response, default options

    /** Reads 100-byte requests; answers each with a 150-byte head and a 1 KiB body in two writes, Nagle on. */
    static Acceptor.App splitResponder() {
        return s -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] request = new byte[SplitClient.REQUEST];
            byte[] head = new byte[150];
            byte[] body = new byte[1024];
            while (in.readNBytes(request, 0, request.length) == request.length) {
                out.write(head);
                out.write(body); // Nagle holds it until the head is acknowledged
            }
        };
    }

    /** A client of the split responder, with every option at its default. */
    public abstract static class SplitClient {
        static final int REQUEST = 100;
        BenchServer server;
        Socket client;
        InputStream in;
        OutputStream out;
        final byte[] request = new byte[REQUEST];
        final byte[] response = new byte[150 + 1024];

        void start(boolean mtcp) throws IOException {
            server = BenchServer.start(mtcp, splitResponder());
            client = server.connect();
            in = client.getInputStream();
            out = client.getOutputStream();
        }

        /**
         * One request, one two-part response.
         *
         * @return the response's length
         * @throws IOException when the exchange fails
         */
        public int exchange() throws IOException {
            out.write(request);
            int n = in.readNBytes(response, 0, response.length);
            if (n != response.length) {
                throw new IOException("response ended after " + n + " bytes");
            }
            return n;
        }

        /** Closes client and server. */
        @TearDown(Level.Trial)
        public void stop() {
            Acceptor.closeQuietly(client);
            server.close();
        }
    }

    /** Plain client and server. */
    @State(Scope.Benchmark)
    public static class PlainSplit extends SplitClient {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(false);
        }
    }

    /** MTCP client and server. */
    @State(Scope.Benchmark)
    public static class MtcpSplit extends SplitClient {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(true);
        }
    }

    /**
     * A request and a response written in two parts with Nagle's algorithm on, every option at its
     * default: the second part waits for the first one's acknowledgement, so the receiver's delayed
     * ACK shows in the round trip (plain TCP: the kernel's, about 40 ms on Linux).
     *
     * @param s plain connection
     * @return the response's length
     * @throws IOException when the exchange fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int splitResponsePlain(PlainSplit s) throws IOException {
        return s.exchange();
    }

    /**
     * The same between MtcpSocket and MtcpServerSocket.
     *
     * @param s MTCP connection
     * @return the response's length
     * @throws IOException when the exchange fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int splitResponseMtcp(MtcpSplit s) throws IOException {
        return s.exchange();
    }

    // ---------------------------------------------------------------- connect

    /** A server that closes every connection as soon as it is accepted (so TIME_WAIT stays on its side). */
    public abstract static class Closer {
        BenchServer server;

        void start(boolean mtcp) throws IOException {
            server = BenchServer.start(mtcp, s -> { });
        }

        /**
         * Connects, sees the server's end of stream, closes.
         *
         * @return the end-of-stream marker read
         * @throws IOException when the connection fails
         */
        public int connect() throws IOException {
            try (Socket s = server.connect()) {
                int r = s.getInputStream().read();
                if (r != -1) {
                    throw new IOException("expected end of stream, read " + r);
                }
                return r;
            }
        }

        /** Closes the server. */
        @TearDown(Level.Trial)
        public void stop() {
            server.close();
        }
    }

    /** Plain server. */
    @State(Scope.Benchmark)
    public static class PlainCloser extends Closer {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(false);
        }
    }

    /** MTCP server. */
    @State(Scope.Benchmark)
    public static class MtcpCloser extends Closer {
        /** @throws IOException when loopback fails */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(true);
        }
    }

    /**
     * @param s plain server
     * @return end of stream
     * @throws IOException when connecting fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int connectPlain(PlainCloser s) throws IOException {
        return s.connect();
    }

    /**
     * @param s MTCP server
     * @return end of stream
     * @throws IOException when connecting fails
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int connectMtcp(MtcpCloser s) throws IOException {
        return s.connect();
    }
}
