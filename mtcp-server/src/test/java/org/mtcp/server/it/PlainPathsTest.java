package org.mtcp.server.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.client.PassThrough;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain paths behave as JDK 17's sockets (NioSocketImpl): each behaviour runs on a JDK socket (which
 * shows the expected observation is the JDK's) and on the library's two plain paths: the client impl's
 * pass-through (a destination that does not speak MTCP) and a plain client's socket accepted by
 * {@link MtcpServerSocket}. The socket under test is {@code subject}; its peer is always a JDK socket.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlainPathsTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Set<SocketOption<?>> CLIENT_MTCP = Set.of(MtcpOptions.MIGRATE, MtcpOptions.ADDITIONAL_SERVERS);
    private static final Set<SocketOption<?>> ACCEPTED_MTCP = Set.of(MtcpOptions.APP_STATE, MtcpOptions.MIGRATED, MtcpOptions.TRIGGER);

    private static ServerSocket jdkServer;
    private static MtcpServerSocket mtcpServer;

    enum Kind {
        /** A JDK client socket: the oracle. */
        JDK,
        /** The client impl's plain TCP path. */
        PASS_THROUGH,
        /** A plain client's socket accepted by the MTCP server. */
        PLAIN_CLIENT
    }

    /** The socket under test and its peer, both closed at the end. */
    private static final class Pair implements AutoCloseable {
        final Socket subject;
        final Socket peer;

        Pair(Socket subject, Socket peer) throws IOException {
            this.subject = subject;
            this.peer = peer;
            subject.setSoTimeout((int) WAIT.toMillis());
            peer.setSoTimeout((int) WAIT.toMillis());
        }

        @Override
        public void close() throws IOException {
            subject.close();
            peer.close();
        }
    }

    @BeforeAll
    static void servers() throws IOException {
        jdkServer = new ServerSocket(0, 50, LO);
        jdkServer.setSoTimeout((int) WAIT.toMillis());
        mtcpServer = new MtcpServerSocket(0, 50, LO);
        ServerInternals.server(mtcpServer).setDetectMillis(50); // a silent plain client is served after 50 ms
        mtcpServer.setSoTimeout((int) WAIT.toMillis());
    }

    @AfterAll
    static void closeServers() throws IOException {
        jdkServer.close();
        mtcpServer.close();
    }

    private static Socket unconnected(Kind k) throws IOException {
        return k == Kind.PASS_THROUGH ? PassThrough.socket() : new Socket();
    }

    private static Pair pair(Kind k) throws IOException {
        if (k == Kind.PLAIN_CLIENT) {
            Socket peer = new Socket(LO, mtcpServer.getLocalPort());
            return new Pair(acceptFrom(mtcpServer, peer.getLocalPort()), peer);
        }
        Socket s = unconnected(k);
        s.connect(jdkServer.getLocalSocketAddress(), (int) WAIT.toMillis());
        return new Pair(s, acceptFrom(jdkServer, s.getLocalPort()));
    }

    /** @return the connection from local port {@code port}; connections a failed test left behind are closed */
    private static Socket acceptFrom(ServerSocket server, int port) throws IOException {
        while (true) {
            Socket a = server.accept();
            if (a.getPort() == port) {
                return a;
            }
            a.close();
        }
    }

    /** @return whether {@code t} is blocked in a native poll or select of the JDK's NIO (a socket or selector wait) */
    private static boolean blockedInNative(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        return t.getState() == Thread.State.RUNNABLE && stack.length > 0 && stack[0].isNativeMethod()
                && stack[0].getClassName().startsWith("sun.nio.ch.");
    }

    private static void untilBlocked(Thread t) throws InterruptedException {
        assertTrue(Waits.until(() -> blockedInNative(t), WAIT), () -> t.getName() + " not blocked:\n" + Waits.stack(t));
    }

    /**
     * Interrupts {@code t} blocked in a socket call, observes it for a while and checks it did not spin:
     * its CPU time stays under half of the wall time (a busy loop would use all of it).
     */
    private static void interruptAndCheckNoSpin(Thread t) throws InterruptedException {
        boolean spins = Waits.spinsWhenInterrupted(t, Duration.ofMillis(300));
        assertTrue(t.isAlive(), "the interrupted call ended");
        assertFalse(spins, "the interrupted thread spins: it used more than half of its time on a CPU");
        untilBlocked(t); // still waiting in the same call
    }

    private static void join(Thread t) throws InterruptedException {
        t.join(WAIT.toMillis());
        assertFalse(t.isAlive(), () -> t.getName() + " did not finish:\n" + Waits.stack(t));
    }

    // ------------------------------------------------------------------ interrupts

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptNeitherEndsNorSpinsABlockedRead(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            AtomicReference<Object> got = new AtomicReference<>();
            AtomicReference<Boolean> flag = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    got.set(p.subject.getInputStream().read());
                } catch (IOException e) {
                    got.set(e);
                }
                flag.set(Thread.currentThread().isInterrupted());
            }, "reader");
            reader.start();
            untilBlocked(reader);
            interruptAndCheckNoSpin(reader);
            assertFalse(p.subject.isClosed());
            p.peer.getOutputStream().write(42);
            join(reader);
            assertEquals(42, got.get(), "the read goes on after the interrupt");
            assertEquals(Boolean.TRUE, flag.get(), "the interrupt flag stays set");
            p.subject.getOutputStream().write(43); // the connection works on
            assertEquals(43, p.peer.getInputStream().read());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptNeitherEndsNorSpinsABlockedWrite(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            byte[] big = new byte[16 << 20]; // more than both socket buffers hold: the write blocks
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<Boolean> flag = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    p.subject.getOutputStream().write(big);
                } catch (Throwable e) {
                    failure.set(e);
                }
                flag.set(Thread.currentThread().isInterrupted());
            }, "writer");
            writer.start();
            untilBlocked(writer);
            interruptAndCheckNoSpin(writer);
            assertEquals(big.length, p.peer.getInputStream().readNBytes(big.length).length);
            join(writer);
            assertEquals(null, failure.get());
            assertEquals(Boolean.TRUE, flag.get());
            assertFalse(p.subject.isClosed());
        }
    }

    // ------------------------------------------------------------------ exceptions

    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeWhileAReadIsBlockedThrowsSocketClosed(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            AtomicReference<Object> got = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    got.set(p.subject.getInputStream().read());
                } catch (IOException e) {
                    got.set(e);
                }
            }, "reader");
            reader.start();
            untilBlocked(reader);
            p.subject.close();
            join(reader);
            SocketException e = assertInstanceOf(SocketException.class, got.get());
            assertEquals("Socket closed", e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeWhileAWriteIsBlockedThrowsSocketClosed(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            AtomicReference<Throwable> got = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    p.subject.getOutputStream().write(new byte[16 << 20]);
                } catch (Throwable e) {
                    got.set(e);
                }
            }, "writer");
            writer.start();
            untilBlocked(writer);
            p.subject.close();
            join(writer);
            SocketException e = assertInstanceOf(SocketException.class, got.get());
            assertEquals("Socket closed", e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void streamsAfterCloseThrowSocketClosed(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            InputStream in = p.subject.getInputStream();
            OutputStream out = p.subject.getOutputStream();
            p.subject.close();
            assertEquals("Socket closed", assertThrows(SocketException.class, in::read).getMessage());
            assertEquals("Socket closed", assertThrows(SocketException.class, () -> out.write(1)).getMessage());
            assertEquals("Socket closed", assertThrows(SocketException.class, in::available).getMessage());
            assertEquals("Socket is closed", assertThrows(SocketException.class, p.subject::getInputStream).getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void writeAfterThePeerClosedThrowsASocketException(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            p.peer.close();
            OutputStream out = p.subject.getOutputStream();
            IOException e = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 1000; i++) { // the first writes may succeed: the reset comes back later
                    out.write(new byte[1000]);
                    TimeUnit.MILLISECONDS.sleep(5);
                }
            });
            assertEquals(SocketException.class, e.getClass(), e.toString());
            assertTrue(Set.of("Broken pipe", "Connection reset").contains(e.getMessage()), e.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shutdownInputReadsEndOfStreamAndShutdownOutputBreaksWrites(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            InputStream in = p.subject.getInputStream();
            OutputStream out = p.subject.getOutputStream();
            p.peer.getOutputStream().write(new byte[10]);
            assertTrue(Waits.until(() -> available(in) == 10, WAIT));
            p.subject.shutdownInput();
            assertEquals(-1, in.read(), "unread bytes do not count after shutdownInput");
            assertEquals(0, in.available());
            p.subject.shutdownOutput();
            assertEquals(-1, p.peer.getInputStream().read());
            SocketException e = assertThrows(SocketException.class, () -> out.write(1));
            assertEquals("Broken pipe", e.getMessage());
            assertFalse(p.subject.getTcpNoDelay(), "ending the stream leaves TCP_NODELAY as it was");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aReadTimesOutAndTheSocketWorksOn(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            p.subject.setSoTimeout(50);
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, () -> p.subject.getInputStream().read());
            assertEquals("Read timed out", e.getMessage());
            p.subject.setSoTimeout((int) WAIT.toMillis());
            p.peer.getOutputStream().write(9);
            assertEquals(9, p.subject.getInputStream().read());
        }
    }

    // ------------------------------------------------------------------ available

    private static int available(InputStream in) {
        try {
            return in.available();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void availableCountsTheBytesWaiting(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            InputStream in = p.subject.getInputStream();
            assertEquals(0, in.available());
            byte[] sent = new byte[1234];
            for (int i = 0; i < sent.length; i++) {
                sent[i] = (byte) i;
            }
            p.peer.getOutputStream().write(sent);
            assertTrue(Waits.until(() -> available(in) == sent.length, WAIT), "available " + in.available());
            assertArrayEquals(sent, in.readNBytes(sent.length));
            assertEquals(0, in.available());
            p.peer.shutdownOutput();
            assertEquals(-1, in.read());
            assertEquals(0, in.available());
        }
    }

    // ------------------------------------------------------------------ linger and close

    @ParameterizedTest
    @EnumSource(Kind.class)
    void lingerZeroResetsTheConnectionAtClose(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            p.subject.setSoLinger(true, 0);
            assertEquals(0, p.subject.getSoLinger());
            p.subject.close();
            SocketException e = assertThrows(SocketException.class, () -> p.peer.getInputStream().read());
            assertEquals("Connection reset", e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void lingerOffTurnsLingerOff(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            assertEquals(-1, p.subject.getSoLinger());
            p.subject.setSoLinger(true, 5);
            assertEquals(5, p.subject.getSoLinger());
            p.subject.setSoLinger(false, 7);
            assertEquals(-1, p.subject.getSoLinger());
            assertEquals(-1, p.subject.getOption(StandardSocketOptions.SO_LINGER));
            assertThrows(IllegalArgumentException.class, () -> p.subject.setOption(StandardSocketOptions.SO_LINGER, null));
            p.subject.close();
            assertEquals(-1, p.peer.getInputStream().read(), "an orderly close");
        }
    }

    /**
     * Close with received bytes unread: the JDK ends the output first (the peer reads the bytes sent and
     * the end of the stream), then the kernel resets the connection for the unread bytes (the peer's
     * writes fail).
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeWithUnreadBytesEndsTheStreamThenResets(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            p.subject.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            p.peer.getOutputStream().write("unread".getBytes(StandardCharsets.US_ASCII));
            InputStream in = p.subject.getInputStream();
            assertTrue(Waits.until(() -> available(in) == 6, WAIT));
            p.subject.close();
            InputStream peerIn = p.peer.getInputStream();
            assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), peerIn.readNBytes(5));
            assertEquals(-1, peerIn.read(), "the peer reads the end of the stream, not a reset");
            OutputStream peerOut = p.peer.getOutputStream();
            IOException e = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    peerOut.write(1);
                    TimeUnit.MILLISECONDS.sleep(5);
                }
            });
            assertEquals(SocketException.class, e.getClass(), e.toString());
        }
    }

    /** As above, without {@code available()}: the unread bytes are in the kernel only. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeWithUnreadBytesInTheKernelEndsTheStreamThenResets(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            p.subject.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            p.peer.getOutputStream().write("unread".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), p.peer.getInputStream().readNBytes(5));
            p.subject.close();
            assertEquals(-1, p.peer.getInputStream().read(), "the peer reads the end of the stream, not a reset");
            OutputStream peerOut = p.peer.getOutputStream();
            IOException e = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    peerOut.write(1);
                    TimeUnit.MILLISECONDS.sleep(5);
                }
            });
            assertEquals(SocketException.class, e.getClass(), e.toString());
        }
    }

    // ------------------------------------------------------------------ options

    private static Set<SocketOption<?>> without(Set<SocketOption<?>> s, Set<SocketOption<?>> mtcp) {
        Set<SocketOption<?>> r = new HashSet<>(s);
        assertTrue(r.containsAll(mtcp), "the MTCP options " + mtcp + " are listed: " + s);
        r.removeAll(mtcp);
        return r;
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"JDK", "PASS_THROUGH"})
    void anUnconnectedSocketHasTheJdkDefaults(Kind k) throws Exception {
        try (Socket s = unconnected(k); Socket jdk = new Socket()) {
            assertTrue(s.getReceiveBufferSize() > 0);
            assertTrue(s.getSendBufferSize() > 0);
            assertEquals(jdk.getReceiveBufferSize(), s.getReceiveBufferSize());
            assertEquals(jdk.getSendBufferSize(), s.getSendBufferSize());
            assertEquals(jdk.getOption(StandardSocketOptions.SO_RCVBUF), s.getOption(StandardSocketOptions.SO_RCVBUF));
            assertEquals(-1, s.getSoLinger());
            assertEquals(-1, s.getOption(StandardSocketOptions.SO_LINGER));
            assertFalse(s.getTcpNoDelay());
            assertEquals(Boolean.FALSE, s.getOption(StandardSocketOptions.TCP_NODELAY));
            assertFalse(s.getKeepAlive());
            assertFalse(s.getOOBInline());
            assertEquals(jdk.getTrafficClass(), s.getTrafficClass());
            assertEquals(jdk.getReuseAddress(), s.getReuseAddress());
            assertEquals(0, s.getSoTimeout());
            assertEquals(-1, s.getLocalPort());
            assertThrows(IllegalArgumentException.class, () -> s.setOption(StandardSocketOptions.TCP_NODELAY, null));
            Set<SocketOption<?>> options = s.supportedOptions();
            assertEquals(jdk.supportedOptions(), k == Kind.JDK ? options : without(options, CLIENT_MTCP));
        }
    }

    @Test
    void anUnconnectedMtcpSocketHasTheJdkDefaultsToo() throws Exception {
        try (Socket s = new MtcpSocket(); Socket jdk = new Socket()) {
            assertEquals(jdk.getReceiveBufferSize(), s.getReceiveBufferSize());
            assertEquals(jdk.getSendBufferSize(), s.getSendBufferSize());
            assertEquals(-1, s.getSoLinger());
            assertFalse(s.getTcpNoDelay());
            assertThrows(IllegalArgumentException.class, () -> s.setOption(StandardSocketOptions.TCP_NODELAY, null));
            assertEquals(jdk.supportedOptions(), without(s.supportedOptions(), CLIENT_MTCP));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void zeroLengthReadsAndWritesDoNothingAsTheJdks(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            InputStream in = p.subject.getInputStream();
            OutputStream out = p.subject.getOutputStream();
            p.subject.shutdownInput();
            assertEquals(0, in.read(new byte[0]));
            p.subject.close();
            assertEquals(0, in.read(new byte[0]));
            out.write(new byte[0]);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aConnectedSocketHasTheJdkOptions(Kind k) throws Exception {
        try (Pair p = pair(k); Socket jdk = new Socket()) {
            Set<SocketOption<?>> options = p.subject.supportedOptions();
            Set<SocketOption<?>> mtcp = k == Kind.PASS_THROUGH ? CLIENT_MTCP : k == Kind.PLAIN_CLIENT ? ACCEPTED_MTCP : Set.of();
            assertEquals(jdk.supportedOptions(), without(options, mtcp));
            if (k != Kind.PLAIN_CLIENT) { // the peer is a JDK accepted socket: it has a client's options
                assertEquals(jdk.supportedOptions(), p.peer.supportedOptions());
            }
            assertFalse(p.subject.getTcpNoDelay());
            assertEquals(-1, p.subject.getSoLinger());
            assertThrows(IllegalArgumentException.class, () -> p.subject.setOption(StandardSocketOptions.TCP_NODELAY, null));
            p.subject.setTcpNoDelay(true);
            assertTrue(p.subject.getTcpNoDelay());
            p.subject.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            assertTrue(p.subject.getKeepAlive());
        }
    }

    @Test
    void theServerSocketHasTheJdkServerSocketOptions() throws Exception {
        try (ServerSocket jdk = new ServerSocket()) {
            Set<SocketOption<?>> mtcp = Set.of(MtcpOptions.CONTROL_MAPPINGS, MtcpOptions.CONTROL_TLS, MtcpOptions.CONTROL_OPEN_AHEAD,
                    MtcpOptions.ADDITIONAL_SERVERS, MtcpOptions.PLAIN_CLIENT_WAIT, MtcpOptions.PLAIN_CLIENTS, MtcpOptions.DRAIN_ON_CLOSE,
                    MtcpOptions.RESUME_GRACE);
            assertTrue(mtcpServer.supportedOptions().containsAll(mtcp), "the library's server options are listed");
            assertEquals(jdk.supportedOptions(), without(mtcpServer.supportedOptions(), mtcp), "the rest are the JDK's");
            assertEquals(jdk.getOption(StandardSocketOptions.IP_TOS), mtcpServer.getOption(StandardSocketOptions.IP_TOS));
        }
    }

    @Test
    void ipTosOfTheServerSocketReachesTheSocketsItAccepts() throws Exception {
        try (MtcpServerSocket ss = new MtcpServerSocket(0, 5, LO); ServerSocket jdk = new ServerSocket(0, 5, LO)) {
            ServerInternals.server(ss).setDetectMillis(50);
            ss.setSoTimeout((int) WAIT.toMillis());
            jdk.setSoTimeout((int) WAIT.toMillis());
            for (ServerSocket server : new ServerSocket[] {jdk, ss}) {
                server.setOption(StandardSocketOptions.IP_TOS, 0x10);
                assertEquals(0x10, server.getOption(StandardSocketOptions.IP_TOS));
                try (Socket c = new Socket(LO, server.getLocalPort()); Socket a = server.accept()) {
                    assertEquals(c.getLocalPort(), a.getPort());
                    assertEquals(0x10, a.getTrafficClass(), server.toString());
                }
            }
        }
    }

    // ------------------------------------------------------------------ bind and connect

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"JDK", "PASS_THROUGH"})
    void bindBindsAtOnce(Kind k) throws Exception {
        try (Socket s = unconnected(k); Socket other = unconnected(k)) {
            s.bind(new InetSocketAddress(LO, 0));
            int port = s.getLocalPort();
            assertTrue(port > 0, "the real port right after bind");
            assertEquals(new InetSocketAddress(LO, port), s.getLocalSocketAddress());
            assertThrows(BindException.class, () -> other.bind(new InetSocketAddress(LO, port)), "a port in use fails at bind");
            assertFalse(other.isClosed());
            s.connect(jdkServer.getLocalSocketAddress(), (int) WAIT.toMillis());
            try (Socket a = jdkServer.accept()) {
                assertEquals(port, s.getLocalPort());
                assertEquals(port, a.getPort());
            }
        }
    }

    @Test
    void anMtcpSocketBindsAtOnceToo() throws Exception {
        // a server of its own, with the default detection delay (the client's first handshake may take a while)
        try (MtcpServerSocket ss = new MtcpServerSocket(0, 5, LO); MtcpSocket s = new MtcpSocket(); MtcpSocket other = new MtcpSocket()) {
            ss.setSoTimeout((int) WAIT.toMillis());
            s.bind(new InetSocketAddress(LO, 0));
            int port = s.getLocalPort();
            assertTrue(port > 0);
            assertThrows(BindException.class, () -> other.bind(new InetSocketAddress(LO, port)));
            s.connect(ss.getLocalSocketAddress(), (int) WAIT.toMillis());
            try (Socket a = ss.accept()) {
                assertFalse(a.getOption(MtcpOptions.MIGRATED));
                assertTrue(s.supportedOptions().contains(MtcpOptions.MIGRATE));
                assertEquals(port, s.getLocalPort());
                assertEquals(port, a.getPort());
                s.getOutputStream().write(5);
                assertEquals(5, a.getInputStream().read());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"JDK", "PASS_THROUGH"})
    void aRefusedConnectThrowsConnectionRefused(Kind k) throws Exception {
        int port;
        try (ServerSocket gone = new ServerSocket(0, 1, LO)) {
            port = gone.getLocalPort();
        }
        try (Socket s = unconnected(k)) {
            ConnectException e = assertThrows(ConnectException.class, () -> s.connect(new InetSocketAddress(LO, port), (int) WAIT.toMillis()));
            assertEquals("Connection refused", e.getMessage());
            SocketException again = assertThrows(SocketException.class, () -> s.connect(jdkServer.getLocalSocketAddress()));
            assertEquals("Socket closed", again.getMessage(), "a failed connect closes the impl (JDK 17)");
            assertFalse(s.isClosed(), "JDK 17: the Socket does not know");
            SocketException option = assertThrows(SocketException.class, () -> s.getOption(StandardSocketOptions.TCP_NODELAY));
            assertEquals("Socket closed", option.getMessage());
        }
    }

    // ------------------------------------------------------------------ urgent data

    @ParameterizedTest
    @EnumSource(Kind.class)
    void urgentDataIsSentAndReadInlineWhenAsked(Kind k) throws Exception {
        try (Pair p = pair(k)) {
            p.subject.sendUrgentData(65);
            p.subject.getOutputStream().write(66);
            assertEquals(66, p.peer.getInputStream().read(), "urgent data is not inline by default");
            assertFalse(p.subject.getOOBInline());
            p.subject.setOOBInline(true);
            assertTrue(p.subject.getOOBInline());
            p.peer.sendUrgentData(67);
            p.peer.getOutputStream().write(68);
            assertEquals(67, p.subject.getInputStream().read());
            assertEquals(68, p.subject.getInputStream().read());
            assertNotNull(p.subject.getInputStream());
        }
    }
}
