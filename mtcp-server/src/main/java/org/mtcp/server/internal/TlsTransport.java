package org.mtcp.server.internal;

import org.mtcp.internal.wire.ProtocolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * A control connection inside TLS 1.3 with mutual authentication ({@code MtcpOptions.CONTROL_TLS}), on
 * the connection's non-blocking channel and loop: a JSSE {@link SSLEngine} wraps what the connection
 * writes and unwraps what it reads; nothing goes in the clear, not even the control magic. Its three
 * buffers are sized from the engine's session (one TLS record each; grown once, to the session's sizes,
 * when the JDK asks). Loop thread only.
 *
 * <p>Who the peer is: the opening side creates its engine for the peer's control host and port with
 * HTTPS endpoint identification, so the JDK checks during the handshake that the peer's certificate
 * names that host (an IP subject alternative name for an IP address, a DNS one for a name). The
 * accepting side requires a client certificate (from the cluster CA, as its trust manager says) but
 * cannot know during the handshake whom to expect: the opener says who it is in its CTRL_HELLO, inside
 * TLS, and {@link #checkIdentity} then checks the certificate against the host of that identity's
 * control address in {@code CONTROL_MAPPINGS}, by the same rule ({@link HostnameRule}).
 */
final class TlsTransport implements ControlTransport {
    private static final Logger log = LoggerFactory.getLogger(TlsTransport.class);
    /** The only protocol offered or accepted. */
    static final String PROTOCOL = "TLSv1.3";
    private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final Server server;
    /** The peer, for messages. */
    private final String peerName;
    /** Ciphertext read from the channel, not yet unwrapped; write mode. */
    private ByteBuffer netIn;
    /** Ciphertext wrapped, not yet written to the channel; read mode. */
    private ByteBuffer netOut;
    /** Plain bytes unwrapped, not yet handed to the connection; read mode. */
    private ByteBuffer appIn;
    private boolean begun;
    private boolean established;
    /** The channel reached its end. */
    private boolean eof;
    /** The peer sent close_notify. */
    private boolean peerClosed;
    /** {@link #netIn} holds only part of a record, and nothing came since: nothing to unwrap until the selector says so. */
    private boolean awaitingBytes;

    private TlsTransport(SocketChannel channel, SSLEngine engine, Server server, String peerName) {
        this.channel = channel;
        this.engine = engine;
        this.server = server;
        this.peerName = peerName;
        int packet = engine.getSession().getPacketBufferSize();
        netIn = ByteBuffer.allocate(packet);
        netOut = ByteBuffer.allocate(packet).flip();
        appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
    }

    /**
     * The side that opens: the JDK checks the peer's certificate, during the handshake, against the
     * host of the control address dialed.
     *
     * @param identity the peer's service address, for messages
     */
    static TlsTransport opening(SSLContext tls, SocketChannel channel, Server server, InetSocketAddress identity,
                                InetSocketAddress controlAddress) {
        SSLEngine e = tls.createSSLEngine(controlAddress.getHostString(), controlAddress.getPort());
        e.setUseClientMode(true);
        e.setEnabledProtocols(new String[] {PROTOCOL});
        SSLParameters p = e.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        e.setSSLParameters(p);
        return new TlsTransport(channel, e, server, "the peer " + identity + " at " + controlAddress);
    }

    /** The side that accepts: a client certificate is required; whose it must be is known at the CTRL_HELLO. */
    static TlsTransport accepting(SSLContext tls, SocketChannel channel, Server server, SocketAddress remote) {
        SSLEngine e = tls.createSSLEngine();
        e.setUseClientMode(false);
        e.setEnabledProtocols(new String[] {PROTOCOL});
        e.setNeedClientAuth(true);
        return new TlsTransport(channel, e, server, "a peer at " + remote);
    }

    @Override
    public boolean connect(SocketAddress to) throws IOException {
        return channel.connect(to);
    }

    @Override
    public boolean finishConnect() throws IOException {
        return channel.finishConnect();
    }

    @Override
    public boolean established() {
        return established;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        try {
            int start = dst.position();
            advance();
            while (dst.hasRemaining()) {
                if (appIn.hasRemaining()) {
                    int n = Math.min(appIn.remaining(), dst.remaining());
                    dst.put(dst.position(), appIn, appIn.position(), n);
                    dst.position(dst.position() + n);
                    appIn.position(appIn.position() + n);
                    continue;
                }
                if (!established || peerClosed || eof || !unwrapOnce()) {
                    break;
                }
                advance(); // a post-handshake message (a session ticket, a key update) may want an answer
            }
            int n = dst.position() - start;
            if (n > 0) {
                return n;
            }
            if (eof && !established) {
                throw failure("the peer closed the connection during the TLS handshake", null);
            }
            return peerClosed || eof ? -1 : 0;
        } catch (Failure e) {
            throw e;
        } catch (SSLException e) {
            throw failure(e.getMessage(), e);
        }
    }

    @Override
    public boolean hasBufferedInput() {
        return appIn.hasRemaining() || (netIn.position() > 0 && !awaitingBytes && !peerClosed);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        try {
            if (!flushNet()) {
                return 0;
            }
            if (!established) {
                advance(); // the handshake first: nothing of the connection's goes before it completes
                if (!established || !flushNet()) {
                    return 0;
                }
            }
            long taken = 0;
            while (remaining(srcs)) {
                SSLEngineResult r = wrap(srcs);
                taken += r.bytesConsumed();
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new SSLException("the connection's TLS is closed");
                }
                runTasks();
                if (!flushNet()) {
                    break; // the channel is full: the rest when it is writable
                }
            }
            return taken;
        } catch (Failure e) {
            throw e;
        } catch (SSLException e) {
            throw failure(e.getMessage(), e);
        }
    }

    @Override
    public boolean wantsWrite() {
        return netOut.hasRemaining() || (begun && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP);
    }

    @Override
    public void checkIdentity(InetSocketAddress claimed) throws ProtocolException {
        SocketAddress control = server.controlMappings().get(claimed);
        if (!(control instanceof InetSocketAddress)) {
            throw refused(control == null
                    ? "its CTRL_HELLO claims the identity " + claimed + ", which CONTROL_MAPPINGS does not list"
                    : "its CTRL_HELLO claims the identity " + claimed + ", whose control address " + control + " is not TCP");
        }
        String host = ((InetSocketAddress) control).getHostString();
        X509Certificate cert;
        try {
            Certificate[] chain = engine.getSession().getPeerCertificates();
            cert = (X509Certificate) chain[0];
        } catch (SSLPeerUnverifiedException | ClassCastException e) {
            throw refused("it presented no X.509 certificate (" + e.getMessage() + ")");
        }
        try {
            HostnameRule.check(cert, host);
        } catch (CertificateException e) {
            throw refused("its CTRL_HELLO claims the identity " + claimed + " (control address " + control + "), but "
                    + e.getMessage());
        }
        log.debug("control connection from {}: certificate {} verified for {} ({})", peerName, cert.getSubjectX500Principal(),
                claimed, host);
    }

    private ProtocolException refused(String why) {
        String msg = "TLS control connection from " + peerName + " refused: " + why;
        log.warn(msg);
        return new ProtocolException(msg);
    }

    @Override
    public void close() {
        if (!begun) {
            return;
        }
        try {
            engine.closeOutbound(); // close_notify, or the alert of a failure already raised
            while (!engine.isOutboundDone() && flushNet()) {
                if (wrap(NOTHING).bytesProduced() == 0) {
                    break;
                }
            }
            flushNet(); // as much as the channel takes now: a close never waits
        } catch (IOException | RuntimeException ignored) {
            // the connection is going anyway
        }
    }

    /**
     * Moves the handshake (or a post-handshake exchange) on as far as it goes without waiting: the
     * engine's delegated tasks, its own wraps, unwraps of what has arrived.
     */
    private void advance() throws IOException {
        if (!begun) {
            begun = true;
            engine.beginHandshake();
        }
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK:
                    runTasks();
                    break;
                case NEED_WRAP:
                    if (!flushNet()) {
                        return;
                    }
                    SSLEngineResult r = wrap(NOTHING);
                    noteFinished(r);
                    if (!flushNet() || r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        return;
                    }
                    break;
                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN:
                    if (peerClosed || eof || !unwrapOnce()) {
                        return;
                    }
                    break;
                default: // NOT_HANDSHAKING
                    if (!established) {
                        established("the handshake completed");
                    }
                    return;
            }
        }
    }

    /**
     * Delegated tasks (certificate path validation, key exchange) run inline on the I/O loop: they take
     * about a millisecond, once per control connection, and a pair of servers opens one and keeps it.
     */
    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private void noteFinished(SSLEngineResult r) {
        if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED && !established) {
            established("the handshake finished");
        }
    }

    private void established(String how) {
        established = true;
        log.debug("control connection with {}: {} ({}, {})", peerName, how, engine.getSession().getProtocol(),
                engine.getSession().getCipherSuite());
    }

    /**
     * Unwraps one record, reading the channel when no whole record is buffered.
     *
     * @return {@code false} when nothing more can be unwrapped now: no whole record arrived, the plain
     * bytes wait to be taken, or the peer's stream ended
     */
    private boolean unwrapOnce() throws IOException {
        while (true) {
            netIn.flip();
            appIn.compact();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                netIn.compact();
                appIn.flip();
            }
            switch (r.getStatus()) {
                case OK:
                    awaitingBytes = false;
                    noteFinished(r);
                    return true;
                case CLOSED:
                    peerClosed = true;
                    return false;
                case BUFFER_OVERFLOW:
                    if (appIn.hasRemaining()) {
                        return false;
                    }
                    appIn = grown(appIn, engine.getSession().getApplicationBufferSize(), "plain").flip();
                    break;
                case BUFFER_UNDERFLOW:
                default:
                    if (!netIn.hasRemaining()) {
                        ByteBuffer bigger = grown(netIn, engine.getSession().getPacketBufferSize(), "record");
                        netIn.flip();
                        bigger.put(netIn);
                        netIn = bigger;
                    }
                    int n = channel.read(netIn);
                    if (n < 0) {
                        eof = true;
                        return false;
                    }
                    if (n == 0) {
                        awaitingBytes = true;
                        return false;
                    }
                    awaitingBytes = false;
                    break;
            }
        }
    }

    /** @return a buffer of {@code size} bytes, to replace {@code b} that the session says is too small */
    private static ByteBuffer grown(ByteBuffer b, int size, String what) throws SSLException {
        if (b.capacity() >= size) {
            throw new SSLException("a TLS " + what + " buffer of " + b.capacity() + " bytes is too small for the session");
        }
        return ByteBuffer.allocate(size);
    }

    /** Wraps into {@link #netOut}, which holds what the channel did not take yet. */
    private SSLEngineResult wrap(ByteBuffer[] srcs) throws SSLException {
        while (true) {
            netOut.compact();
            SSLEngineResult r;
            try {
                r = engine.wrap(srcs, netOut);
            } finally {
                netOut.flip();
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW && !netOut.hasRemaining()) {
                netOut = grown(netOut, engine.getSession().getPacketBufferSize(), "record").flip();
                continue;
            }
            return r;
        }
    }

    /** @return {@code true} when every wrapped byte went to the channel */
    private boolean flushNet() throws IOException {
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean remaining(ByteBuffer[] srcs) {
        for (ByteBuffer b : srcs) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /** A failure already described. */
    private static final class Failure extends SSLException {
        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** @return the failure, naming the peer and the TLS reason (the innermost cause included), logged */
    private SSLException failure(String message, Throwable cause) {
        StringBuilder why = new StringBuilder(message == null ? "" : message);
        Throwable root = cause;
        while (root != null && root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != null && root != cause && root.getMessage() != null && !why.toString().contains(root.getMessage())) {
            why.append(" (").append(root.getMessage()).append(')');
        }
        if (why.indexOf("Received fatal alert") >= 0) {
            why.append(": the peer refused this connection's TLS (its log says why)");
        }
        String msg = (established ? "TLS on the control connection with " : "TLS handshake of the control connection with ")
                + peerName + " failed: " + why;
        log.warn(msg);
        return new Failure(msg, cause);
    }
}
