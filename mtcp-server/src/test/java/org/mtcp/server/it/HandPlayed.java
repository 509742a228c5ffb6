package org.mtcp.server.it;

import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Script;
import org.mtcp.server.testkit.WireTestKit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peers played by hand on plain blocking sockets, every frame built and parsed with the library's
 * codec ({@link Message} records, {@link Frames#opening}, {@link WireTestKit#readMessage}); and a
 * gated byte relay that holds one direction of a connection until the test opens it.
 */
public final class HandPlayed {
    /** The loopback address every test server binds. */
    public static final InetAddress LO = InetAddress.getLoopbackAddress();

    private HandPlayed() {
    }

    /** @return the bytes of an encoded frame or opening (a flipped buffer) */
    public static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    /** Writes one frame. */
    public static void send(Socket s, Message m) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(bytes(m.encode()));
        out.flush();
    }

    /** Writes a connection's opening: the magic, then its first frame. */
    public static void sendOpening(Socket s, byte[] magic, Message first) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(bytes(Frames.opening(magic, first)));
        out.flush();
    }

    /**
     * Opens a session on {@code s} as a client would: the magic, a HELLO with a fresh X25519 key, the
     * server's HELLO_ACK, the session key.
     *
     * @return the client's seal for control frames on this connection
     */
    public static ControlSeal helloAsClient(Socket s) throws IOException {
        X25519.Ephemeral e = X25519.ephemeral();
        Message.Hello hello = new Message.Hello(0, 1 << 20, e.publicKey());
        sendOpening(s, Wire.MAGIC, hello);
        Message.HelloAck ack = expect(s, Message.HelloAck.class, "the server's HELLO_ACK");
        return ControlSeal.client(KeySchedule.sessionKey(e.agree(ack.serverPublic()), Message.payload(hello), Message.payload(ack)));
    }

    /**
     * Answers a client's HELLO as a server would, agreeing the session key.
     *
     * @return the server's seal for control frames on this connection
     */
    public static ControlSeal answerHello(Socket s, Message.Hello hello, InetSocketAddress self, List<InetSocketAddress> alternates)
            throws IOException {
        X25519.Ephemeral e = X25519.ephemeral();
        Message.HelloAck ack = new Message.HelloAck(new byte[16], e.publicKey(), 1 << 20, self, alternates);
        send(s, ack);
        return ControlSeal.server(KeySchedule.sessionKey(e.agree(hello.clientPublic()), Message.payload(hello), Message.payload(ack)));
    }

    /** Writes {@code m} sealed under {@code seal}. */
    public static void sendSealed(Socket s, ControlSeal seal, Message m) throws IOException {
        send(s, seal.seal(m));
    }

    /** @return the next frame, which must be of type {@code type} */
    public static <T extends Message> T expect(Socket s, Class<T> type, String what) throws IOException {
        Message m = WireTestKit.readMessage(s.getInputStream(), what);
        assertTrue(type.isInstance(m), what + ": expected " + type.getSimpleName() + ", received " + m);
        return type.cast(m);
    }

    /** Reads the opening magic of an accepted connection and checks it is {@code magic}. */
    public static void expectMagic(Socket s, byte[] magic) throws IOException {
        byte[] got = s.getInputStream().readNBytes(magic.length);
        assertArrayEquals(magic, got, "the connection's opening magic");
    }

    /**
     * Opens a control connection to a server by hand, introducing itself as {@code as}.
     *
     * @return the raw socket, CTRL_HELLO sent
     */
    public static Socket openControl(SocketAddress control, InetSocketAddress as) throws IOException {
        Socket s = new Socket();
        s.connect(control, 10_000);
        s.setSoTimeout(20_000);
        sendOpening(s, Wire.CONTROL_MAGIC, new Message.ControlHello(as));
        return s;
    }

    /**
     * @return whether the peer closed {@code s} (end of stream or reset) before {@code millis} passed;
     * any byte that arrives instead fails the test
     */
    public static boolean closedByPeer(Socket s, int millis) throws IOException {
        int was = s.getSoTimeout();
        s.setSoTimeout(millis);
        try {
            int r = s.getInputStream().read();
            assertEquals(-1, r, "expected the peer to close the connection, received a byte");
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset: the peer closed with unread bytes
        } finally {
            if (!s.isClosed()) {
                s.setSoTimeout(was);
            }
        }
    }

    /**
     * Fills the accept queue of a listener of backlog 1 (nobody accepts), so that the next connect to
     * it waits (Linux drops SYNs to a full accept queue) until {@link #drain} takes the fillers.
     *
     * @return the fillers, connected
     */
    public static List<SocketChannel> fillBacklog(ServerSocket backlogOne) throws IOException, InterruptedException {
        List<SocketChannel> fillers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            SocketChannel ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.connect(backlogOne.getLocalSocketAddress());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!ch.finishConnect()) {
                assertTrue(System.nanoTime() - deadline < 0, "filler " + i + " of the accept queue did not connect");
                TimeUnit.MILLISECONDS.sleep(5);
            }
            fillers.add(ch);
        }
        return fillers;
    }

    /** Accepts the fillers of {@link #fillBacklog} and closes them: the accept queue has room again. */
    public static void drain(ServerSocket listener, List<SocketChannel> fillers) throws IOException {
        listener.setSoTimeout(10_000);
        for (int i = 0; i < fillers.size(); i++) {
            listener.accept().close();
        }
        for (SocketChannel ch : fillers) {
            ch.close();
        }
    }

    /** A transforming-echo round trip of {@code n} bytes from offset {@code from} on a client session, checked. */
    public static void echo(ClientSession s, long from, int n) throws IOException {
        byte[] sent = Script.pattern(Script.UP, from, n);
        ClientInternals.output(s).write(sent);
        byte[] got = new byte[n];
        Apps.readFully(ClientInternals.input(s, 20_000), got);
        for (int k = 0; k < n; k++) {
            byte expected = Apps.transform(sent[k], from + k);
            if (got[k] != expected) {
                throw new AssertionError("echo byte " + (from + k) + ": sent " + sent[k] + ", expected " + expected
                        + ", received " + got[k] + " (" + s.debugState() + ")");
            }
        }
    }

    /**
     * A byte relay in front of a server's port: it accepts one connection and forwards it to the
     * target unchanged, towards the target at once, back from the target only once {@link #open}
     * was called. Nothing is parsed or built: the bytes are the two real peers'.
     */
    public static final class GatedRelay implements AutoCloseable {
        private final ServerSocket listener;
        private final SocketAddress target;
        private final CountDownLatch gate = new CountDownLatch(1);
        private final CountDownLatch accepted = new CountDownLatch(1);
        private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile long heldBack;
        /** Every byte relayed each way, as an observer on the path sees them. */
        private final java.io.ByteArrayOutputStream towardsTarget = new java.io.ByteArrayOutputStream();
        private final java.io.ByteArrayOutputStream fromTarget = new java.io.ByteArrayOutputStream();

        /** Starts listening on an ephemeral loopback port; relays to {@code target}. */
        public GatedRelay(SocketAddress target) throws IOException {
            this.listener = new ServerSocket(0, 5, LO);
            this.target = target;
            Thread t = new Thread(this::run, "test-relay");
            t.setDaemon(true);
            t.start();
        }

        /** @return where to connect instead of the target */
        public InetSocketAddress address() {
            return new InetSocketAddress(LO, listener.getLocalPort());
        }

        /** Lets the bytes back from the target through, those held and all later ones. */
        public void open() {
            gate.countDown();
        }

        /** @return every byte relayed towards the target so far (a passive observer's recording) */
        public byte[] recordedTowardsTarget() {
            synchronized (towardsTarget) {
                return towardsTarget.toByteArray();
            }
        }

        /** @return every byte relayed back from the target so far */
        public byte[] recordedFromTarget() {
            synchronized (fromTarget) {
                return fromTarget.toByteArray();
            }
        }

        /** @return bytes from the target held back so far (while closed) */
        public long heldBack() {
            return heldBack;
        }

        /** @return whether a connection was accepted within the time */
        public boolean awaitAccepted(long seconds) throws InterruptedException {
            return accepted.await(seconds, TimeUnit.SECONDS);
        }

        private void run() {
            try {
                Socket in = listener.accept();
                Socket out = new Socket();
                out.connect(target, 10_000);
                sockets.add(in);
                sockets.add(out);
                accepted.countDown();
                Thread back = new Thread(() -> copy(out, in, true), "test-relay-back");
                back.setDaemon(true);
                back.start();
                copy(in, out, false);
            } catch (IOException e) {
                // closed
            }
        }

        private void copy(Socket from, Socket to, boolean gated) {
            byte[] buf = new byte[64 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        to.shutdownOutput();
                        return;
                    }
                    if (gated && gate.getCount() > 0) {
                        heldBack += n;
                        if (!gate.await(60, TimeUnit.SECONDS)) {
                            return;
                        }
                    }
                    java.io.ByteArrayOutputStream record = gated ? fromTarget : towardsTarget;
                    synchronized (record) {
                        record.write(buf, 0, n);
                    }
                    out.write(buf, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // one side closed
            }
        }

        @Override
        public void close() throws IOException {
            gate.countDown();
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
