package org.mtcp.benchmarks;

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
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The physical floor of a migration on this machine: the choreography of one lazy-pull migration
 * (thesis figure 4.1) on plain {@code java.net} sockets, with no library in between. One operation:
 * <ol>
 *   <li>the client opens a TCP connection to the destination and sends a 64-byte request;</li>
 *   <li>the destination, on its accepting thread, sends an 8-byte request over an already-open
 *       control connection to the origin, which answers with a 4-byte length and {@code stateBytes}
 *       bytes from a preallocated buffer;</li>
 *   <li>the origin closes its connection to the client after its reply (MTCP's origin closes the old
 *       connection at the commit); the destination answers the client with 64 bytes; the client
 *       reads them and closes its previous connection, as an MTCP client does when it switches.</li>
 * </ol>
 * The next operation goes the other way (destination and origin swap), as the warm MTCP loop does.
 * Every socket has {@code TCP_NODELAY}. Compare with {@link MigrationTimeBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class FloorBenchmark {

    /** Size of the state pulled over the control connection, as in {@link MigrationTimeBenchmark}. */
    @Param({"0", "1024", "5120", "10240", "16384", "65536", "262144", "1048576"})
    public int stateBytes;

    private final FloorServer[] servers = new FloorServer[2];
    private final byte[] request = new byte[64];
    private final byte[] reply = new byte[64];
    private Socket current;
    private int at;

    /**
     * Starts two floor servers, opens their control connections and connects the client to the first.
     *
     * @throws IOException when loopback fails
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        for (int i = 0; i < 2; i++) {
            servers[i] = new FloorServer(stateBytes);
        }
        servers[0].connectControl(servers[1]);
        servers[1].connectControl(servers[0]);
        at = 1;
        current = open(servers[0]);
    }

    /**
     * One floor "migration" to the other server.
     *
     * @return the new connection (returned so that nothing is eliminated)
     * @throws IOException when loopback fails
     */
    @Benchmark
    public Socket migrate() throws IOException {
        Socket next = open(servers[at]);
        at ^= 1;
        current.close();
        current = next;
        return next;
    }

    private Socket open(FloorServer to) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(Net.SO_TIMEOUT_MS);
        s.connect(Net.at(to.service.getLocalPort()));
        OutputStream out = s.getOutputStream();
        out.write(request);
        Net.readFully(s.getInputStream(), reply, reply.length);
        return s;
    }

    /** Closes everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        Acceptor.closeQuietly(current);
        for (FloorServer s : servers) {
            if (s != null) {
                s.closing = true;
            }
        }
        for (FloorServer s : servers) {
            if (s != null) {
                s.close();
            }
        }
    }

    /** One plain server: a service listener, a control listener, and a control connection to its peer. */
    static final class FloorServer implements AutoCloseable {
        final ServerSocket service;
        final ServerSocket control;
        final byte[] stateReply;
        final byte[] pulled;
        final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "floor");
            t.setDaemon(true);
            return t;
        });
        final Set<Socket> open = ConcurrentHashMap.newKeySet();
        Socket toPeer;
        /** The other server; its control listener is connected to lazily when {@link #toPeer} is not open yet. */
        FloorServer peer;
        /** The client connection this server holds now: closed by the origin on a state request, as MTCP's origin does. */
        volatile Socket session;
        InputStream peerIn;
        OutputStream peerOut;
        volatile boolean closing;

        FloorServer(int stateBytes) throws IOException {
            service = new ServerSocket(0, 50, Net.LO);
            control = new ServerSocket(0, 50, Net.LO);
            stateReply = new byte[4 + stateBytes];
            stateReply[0] = (byte) (stateBytes >>> 24);
            stateReply[1] = (byte) (stateBytes >>> 16);
            stateReply[2] = (byte) (stateBytes >>> 8);
            stateReply[3] = (byte) stateBytes;
            System.arraycopy(StateApp.state(stateBytes), 0, stateReply, 4, stateBytes);
            pulled = new byte[Math.max(4, stateBytes)];
            threads.execute(this::acceptService);
            threads.execute(this::acceptControl);
        }

        void connectControl(FloorServer peer) throws IOException {
            this.peer = peer;
            toPeer = new Socket();
            toPeer.setTcpNoDelay(true);
            toPeer.setSoTimeout(Net.SO_TIMEOUT_MS);
            toPeer.connect(Net.at(peer.control.getLocalPort()));
            peerIn = toPeer.getInputStream();
            peerOut = toPeer.getOutputStream();
        }

        /** The destination's part, on the accepting thread: no hand-off on the critical path. */
        private void acceptService() {
            byte[] req = new byte[64];
            byte[] stateRequest = new byte[8];
            byte[] rep = new byte[64];
            while (!closing) {
                Socket s = null;
                try {
                    s = service.accept();
                    s.setTcpNoDelay(true);
                    s.setSoTimeout(Net.SO_TIMEOUT_MS);
                    Net.readFully(s.getInputStream(), req, req.length);
                    if (toPeer == null) {
                        connectControl(peer); // cold: the first request opens the control connection
                    }
                    peerOut.write(stateRequest);
                    Net.readFully(peerIn, pulled, 4);
                    int len = ((pulled[0] & 0xff) << 24) | ((pulled[1] & 0xff) << 16) | ((pulled[2] & 0xff) << 8)
                            | (pulled[3] & 0xff);
                    Net.readFully(peerIn, pulled, len);
                    s.getOutputStream().write(rep);
                    Socket accepted = s;
                    session = accepted;
                    open.add(accepted);
                    threads.execute(() -> drain(accepted));
                } catch (RejectedExecutionException e) { // closing
                    Acceptor.closeQuietly(s);
                    return;
                } catch (IOException e) {
                    Acceptor.closeQuietly(s);
                    if (!closing) {
                        System.err.println("floor: service failed: " + e);
                        e.printStackTrace();
                    }
                    return;
                }
            }
        }

        /** The connection lives on until the client closes it. */
        private void drain(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                byte[] b = new byte[64];
                while (in.read(b) >= 0) {
                    // nothing more is sent
                }
            } catch (IOException ignored) {
                // client gone
            } finally {
                open.remove(s);
            }
        }

        /** The origin's part: answers state requests on a control connection. */
        private void acceptControl() {
            try {
                Socket c = control.accept();
                open.add(c);
                c.setTcpNoDelay(true);
                InputStream in = c.getInputStream();
                OutputStream out = c.getOutputStream();
                byte[] req = new byte[8];
                while (!closing) {
                    Net.readFully(in, req, req.length);
                    out.write(stateReply);
                    Acceptor.closeQuietly(session); // the session left: the origin closes its old connection
                }
            } catch (IOException e) {
                if (!closing) {
                    System.err.println("floor: control failed: " + e);
                }
            }
        }

        @Override
        public void close() {
            closing = true;
            Acceptor.closeQuietly(service);
            Acceptor.closeQuietly(control);
            Acceptor.closeQuietly(toPeer);
            for (Socket s : open) {
                Acceptor.closeQuietly(s);
            }
            threads.shutdownNow();
        }
    }
}
