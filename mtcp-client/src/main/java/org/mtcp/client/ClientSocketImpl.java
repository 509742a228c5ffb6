package org.mtcp.client;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.observe.MigrationRecorder;
import org.mtcp.internal.session.LegacyOptions;
import org.mtcp.internal.session.SessionInputStream;
import org.mtcp.internal.session.SessionOutputStream;
import org.mtcp.internal.session.Settings;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.net.SocketOptions;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The client {@link SocketImpl}: an MTCP session for destinations that speak MTCP, a plain TCP
 * channel for the others. Socket options the application sets are kept and applied to every
 * connection the session opens, so they survive migrations. After a migration the protected
 * {@code address}, {@code port} and {@code localport} fields describe the new connection, so
 * {@code Socket.getInetAddress()} and friends name the server the session is on now.
 */
final class ClientSocketImpl extends SocketImpl {
    private static final Set<SocketOption<?>> OPTIONS = supported();

    private final Predicate<InetSocketAddress> speaksMtcp;
    /** Listeners and counters, shared with the session. */
    final MigrationRecorder recorder = ClientSession.newRecorder();
    /** Standard options set by the application, in order; guarded by this. */
    private final Map<SocketOption<?>, Object> options = new LinkedHashMap<>();
    private volatile MigrationPolicy policy;
    private volatile InetSocketAddress localBind;
    private volatile int timeout;
    private volatile ClientSession session;
    private volatile SocketChannel plain;
    private volatile boolean closed;
    private InputStream input;
    private OutputStream output;

    ClientSocketImpl(Predicate<InetSocketAddress> speaksMtcp) {
        this.speaksMtcp = speaksMtcp;
    }

    ClientSession session() {
        return session;
    }

    void setPolicy(MigrationPolicy p) {
        policy = p;
        ClientSession s = session;
        if (s != null) {
            s.setPolicy(p);
        }
    }

    @Override
    protected void create(boolean stream) throws IOException {
        if (!stream) {
            throw new SocketException("MTCP sockets are stream sockets only");
        }
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        connect(new InetSocketAddress(host, port), 0);
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        connect(new InetSocketAddress(address, port), 0);
    }

    @Override
    protected void connect(SocketAddress endpoint, int timeoutMillis) throws IOException {
        if (!(endpoint instanceof InetSocketAddress)) {
            throw new IllegalArgumentException("unsupported address type: " + endpoint);
        }
        InetSocketAddress to = (InetSocketAddress) endpoint;
        if (to.isUnresolved()) {
            throw new UnknownHostException(to.getHostName());
        }
        if (closed) {
            throw new SocketException("Socket closed");
        }
        if (session != null || plain != null) {
            throw new SocketException("already connected");
        }
        if (speaksMtcp.test(to)) {
            ClientSession s = ClientSession.connect(to, localBind, timeoutMillis, this::applyOptions,
                    this::switched, recorder, policy);
            session = s;
            SocketChannel ch = s.channel();
            switched(s.server(), to, ch == null ? 0 : ch.socket().getLocalPort());
        } else {
            SocketChannel ch = SocketChannel.open();
            try {
                applyOptions(ch);
                if (localBind != null) {
                    ch.bind(localBind);
                }
                ch.socket().setSoTimeout(timeout);
                ch.socket().connect(to, timeoutMillis);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            plain = ch;
            address = to.getAddress();
            port = to.getPort();
            localport = ch.socket().getLocalPort();
        }
    }

    private void switched(InetSocketAddress server, InetSocketAddress remote, int localPort) {
        address = remote.getAddress();
        port = remote.getPort();
        localport = localPort;
    }

    private void applyOptions(SocketChannel ch) {
        try {
            Map<SocketOption<?>, Object> copy;
            synchronized (this) {
                copy = new LinkedHashMap<>(options);
            }
            for (Map.Entry<SocketOption<?>, Object> e : copy.entrySet()) {
                set(ch, e.getKey(), e.getValue());
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> void set(SocketChannel ch, SocketOption<T> name, Object value) throws IOException {
        ch.setOption(name, (T) value);
    }

    @Override
    protected void bind(InetAddress host, int port) throws IOException {
        localBind = new InetSocketAddress(host, port);
        localport = port;
    }

    @Override
    protected void listen(int backlog) throws IOException {
        throw new SocketException("an MTCP client socket cannot listen");
    }

    @Override
    protected void accept(SocketImpl s) throws IOException {
        throw new SocketException("an MTCP client socket cannot accept");
    }

    @Override
    protected InputStream getInputStream() throws IOException {
        synchronized (this) {
            if (input == null) {
                ClientSession s = session;
                if (s != null) {
                    input = new SessionInputStream(s, () -> timeout);
                } else if (plain != null) {
                    input = plain.socket().getInputStream();
                } else {
                    throw new SocketException("Socket is not connected");
                }
            }
            return input;
        }
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
        synchronized (this) {
            if (output == null) {
                ClientSession s = session;
                if (s != null) {
                    output = new SessionOutputStream(s);
                } else if (plain != null) {
                    output = plain.socket().getOutputStream();
                } else {
                    throw new SocketException("Socket is not connected");
                }
            }
            return output;
        }
    }

    @Override
    protected int available() throws IOException {
        ClientSession s = session;
        if (s != null) {
            return s.available();
        }
        SocketChannel p = plain;
        return p == null ? 0 : p.socket().getInputStream().available();
    }

    @Override
    protected void close() throws IOException {
        closed = true;
        ClientSession s = session;
        if (s != null) {
            s.close();
        }
        SocketChannel p = plain;
        if (p != null) {
            p.close();
        }
    }

    @Override
    protected void shutdownInput() throws IOException {
        ClientSession s = session;
        if (s != null) {
            s.shutdownInput();
        } else if (plain != null) {
            plain.shutdownInput();
        }
    }

    @Override
    protected void shutdownOutput() throws IOException {
        ClientSession s = session;
        if (s != null) {
            s.shutdownOutput();
        } else if (plain != null) {
            plain.shutdownOutput();
        }
    }

    @Override
    protected boolean supportsUrgentData() {
        return false;
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        throw new SocketException("MTCP sockets do not support urgent data");
    }

    // ---------------------------------------------------------------- options

    @Override
    protected Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    @Override
    protected <T> void setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        if (name == MtcpOptions.MIGRATE) {
            ClientSession s = session;
            if (s == null) {
                throw new SocketException(plain != null ? "the connection to " + address + " is plain TCP: it cannot migrate"
                        : "Socket is not connected");
            }
            // the socket's read timeout, when set, bounds a migration too (it includes waiting for another one)
            int t = timeout;
            s.migrate((InetSocketAddress) Objects.requireNonNull(value, "MIGRATE destination"),
                    MigrationEvent.Initiation.CLIENT, t > 0 ? t : Settings.MIGRATE_TIMEOUT_MILLIS * 2);
            return;
        }
        if (name == MtcpOptions.ADDITIONAL_SERVERS) {
            throw new SocketException("ADDITIONAL_SERVERS is read-only on a client socket");
        }
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (name == StandardSocketOptions.SO_LINGER && value != null && (Integer) value < 0) {
            value = null;
        }
        synchronized (this) {
            if (value == null) {
                options.remove(name);
            } else {
                options.put(name, value);
            }
        }
        SocketChannel ch = currentChannel();
        if (ch != null && value != null) {
            ch.setOption(name, value);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (name == MtcpOptions.ADDITIONAL_SERVERS) {
            ClientSession s = session;
            return (T) (s == null ? List.of() : s.alternates());
        }
        if (name == MtcpOptions.MIGRATE) {
            throw new SocketException("MIGRATE is write-only");
        }
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        SocketChannel ch = currentChannel();
        if (ch != null) {
            return ch.getOption(name);
        }
        synchronized (this) {
            return (T) options.get(name);
        }
    }

    private SocketChannel currentChannel() {
        ClientSession s = session;
        return s != null ? s.channel() : plain;
    }

    @Override
    public void setOption(int optID, Object value) throws SocketException {
        if (optID == SocketOptions.SO_TIMEOUT) {
            timeout = LegacyOptions.timeout(value);
            SocketChannel p = plain;
            if (p != null) {
                p.socket().setSoTimeout(timeout);
            }
            return;
        }
        LegacyOptions.set(optID, value, this::setOption);
    }

    @Override
    public Object getOption(int optID) throws SocketException {
        if (optID == SocketOptions.SO_TIMEOUT) {
            return timeout;
        }
        if (optID == SocketOptions.SO_BINDADDR) {
            try {
                SocketChannel ch = currentChannel();
                if (ch != null && ch.getLocalAddress() instanceof InetSocketAddress) {
                    return ((InetSocketAddress) ch.getLocalAddress()).getAddress();
                }
                InetSocketAddress b = localBind;
                return b != null ? b.getAddress() : InetAddress.getByName("0.0.0.0");
            } catch (IOException e) {
                throw LegacyOptions.socketException(e);
            }
        }
        return LegacyOptions.get(optID, this::getOption, true); // not connected yet: what a fresh socket says
    }

    private static Set<SocketOption<?>> supported() {
        Set<SocketOption<?>> s = new HashSet<>();
        try (SocketChannel ch = SocketChannel.open()) {
            s.addAll(ch.supportedOptions());
        } catch (IOException e) {
            s.add(StandardSocketOptions.TCP_NODELAY);
            s.add(StandardSocketOptions.SO_KEEPALIVE);
            s.add(StandardSocketOptions.SO_SNDBUF);
            s.add(StandardSocketOptions.SO_RCVBUF);
            s.add(StandardSocketOptions.SO_REUSEADDR);
            s.add(StandardSocketOptions.SO_LINGER);
            s.add(StandardSocketOptions.IP_TOS);
        }
        s.add(MtcpOptions.MIGRATE);
        s.add(MtcpOptions.ADDITIONAL_SERVERS);
        return Collections.unmodifiableSet(s);
    }
}
