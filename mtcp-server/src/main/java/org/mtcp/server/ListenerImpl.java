package org.mtcp.server;

import org.mtcp.api.MtcpOptions;
import org.mtcp.internal.session.LegacyOptions;
import org.mtcp.server.internal.Accepted;
import org.mtcp.server.internal.Server;

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
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The listening {@link SocketImpl} of {@link MtcpServerSocket}: a {@link Server} behind the ServerSocket API. */
final class ListenerImpl extends SocketImpl {
    private final Server server;
    private InetSocketAddress bindTo;
    private volatile int timeout;
    /**
     * IP_TOS set on the server socket, or null. A JDK server socket sets it on the listening socket and
     * the sockets it accepts inherit it; a server socket channel has no IP_TOS, so it is set on each
     * accepted connection.
     */
    private volatile Integer tos;

    ListenerImpl() throws IOException {
        server = new Server();
    }

    Server server() {
        return server;
    }

    @Override
    protected void create(boolean stream) throws IOException {
        if (!stream) {
            throw new SocketException("MTCP server sockets are stream sockets only");
        }
    }

    @Override
    protected void bind(InetAddress host, int port) throws IOException {
        bindTo = new InetSocketAddress(host, port);
    }

    @Override
    protected void listen(int backlog) throws IOException {
        server().listen(bindTo, backlog);
        InetSocketAddress b = server.bound();
        address = b.getAddress();
        localport = b.getPort();
    }

    @Override
    protected void accept(SocketImpl s) throws IOException {
        Accepted a = server().take(timeout);
        Integer t = tos;
        if (t != null) {
            try {
                a.setOption(StandardSocketOptions.IP_TOS, t);
            } catch (IOException | RuntimeException ignored) {
                // as with an inherited value, the accepted socket works without it
            }
        }
        ((AcceptedSocketImpl) s).attach(a);
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        throw new SocketException("a server socket does not connect");
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        throw new SocketException("a server socket does not connect");
    }

    @Override
    protected void connect(SocketAddress address, int timeout) throws IOException {
        throw new SocketException("a server socket does not connect");
    }

    @Override
    protected InputStream getInputStream() throws IOException {
        throw new SocketException("a server socket has no streams");
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
        throw new SocketException("a server socket has no streams");
    }

    @Override
    protected int available() {
        return 0;
    }

    @Override
    protected void close() throws IOException {
        server.closeDraining();
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        throw new SocketException("not supported");
    }

    @Override
    protected Set<SocketOption<?>> supportedOptions() {
        Set<SocketOption<?>> s = new HashSet<>(server.channel().supportedOptions());
        s.add(StandardSocketOptions.IP_TOS); // a JDK server socket has it, its channel does not
        s.add(MtcpOptions.CONTROL_MAPPINGS);
        s.add(MtcpOptions.CONTROL_TLS);
        s.add(MtcpOptions.CONTROL_OPEN_AHEAD);
        s.add(MtcpOptions.ADDITIONAL_SERVERS);
        s.add(MtcpOptions.PLAIN_CLIENT_WAIT);
        s.add(MtcpOptions.DRAIN_ON_CLOSE);
        s.add(MtcpOptions.RESUME_GRACE);
        s.add(MtcpOptions.PLAIN_CLIENTS);
        return Collections.unmodifiableSet(s);
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <T> void setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        if (name == MtcpOptions.CONTROL_MAPPINGS) {
            server().setControlMappings((Map<InetSocketAddress, SocketAddress>) Objects.requireNonNull(value, "mappings"));
        } else if (name == MtcpOptions.CONTROL_TLS) {
            server().setControlTls((javax.net.ssl.SSLContext) value);
        } else if (name == MtcpOptions.CONTROL_OPEN_AHEAD) {
            server().setControlOpenAhead((Boolean) Objects.requireNonNull(value, "CONTROL_OPEN_AHEAD"));
        } else if (name == MtcpOptions.ADDITIONAL_SERVERS) {
            server().setAlternates((List<InetSocketAddress>) Objects.requireNonNull(value, "alternates"));
        } else if (name == MtcpOptions.DRAIN_ON_CLOSE) {
            java.time.Duration d = (java.time.Duration) value;
            if (d != null && d.isNegative()) {
                throw new IllegalArgumentException("DRAIN_ON_CLOSE must not be negative: " + d);
            }
            server().setDrainOnClose(d == null || d.isZero() ? null : d);
        } else if (name == MtcpOptions.RESUME_GRACE) {
            java.time.Duration d = (java.time.Duration) Objects.requireNonNull(value, "RESUME_GRACE");
            if (d.isNegative()) {
                throw new IllegalArgumentException("RESUME_GRACE must not be negative: " + d);
            }
            server().setResumeGraceMillis(d.toMillis());
        } else if (name == MtcpOptions.PLAIN_CLIENT_WAIT) {
            java.time.Duration d = (java.time.Duration) Objects.requireNonNull(value, "PLAIN_CLIENT_WAIT");
            if (d.isNegative()) {
                throw new IllegalArgumentException("PLAIN_CLIENT_WAIT must not be negative: " + d);
            }
            server().setDetectMillis(d.toMillis());
        } else if (name == MtcpOptions.PLAIN_CLIENTS) {
            server().setPlainClients((Boolean) Objects.requireNonNull(value, "PLAIN_CLIENTS"));
        } else if (name == MtcpOptions.APP_STATE || name == MtcpOptions.MIGRATED || name == MtcpOptions.TRIGGER
                || name == MtcpOptions.MIGRATE) {
            throw new SocketException(name + " applies to accepted sockets, not to the server socket");
        } else if (name == StandardSocketOptions.IP_TOS) {
            LegacyOptions.checkValue(name, value);
            tos = (Integer) value;
        } else {
            server().channel().setOption(name, value);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (name == MtcpOptions.CONTROL_MAPPINGS) {
            return (T) server().controlMappings();
        }
        if (name == MtcpOptions.CONTROL_TLS) {
            return (T) server().controlTls();
        }
        if (name == MtcpOptions.CONTROL_OPEN_AHEAD) {
            return (T) Boolean.valueOf(server().controlOpenAhead());
        }
        if (name == MtcpOptions.ADDITIONAL_SERVERS) {
            return (T) server().alternates();
        }
        if (name == MtcpOptions.DRAIN_ON_CLOSE) {
            java.time.Duration d = server().drainOnClose();
            return (T) (d == null ? java.time.Duration.ZERO : d);
        }
        if (name == MtcpOptions.RESUME_GRACE) {
            return (T) java.time.Duration.ofMillis(server().resumeGraceMillis());
        }
        if (name == MtcpOptions.PLAIN_CLIENT_WAIT) {
            return (T) java.time.Duration.ofMillis(server().detectMillis());
        }
        if (name == MtcpOptions.PLAIN_CLIENTS) {
            return (T) Boolean.valueOf(server().plainClients());
        }
        if (name == StandardSocketOptions.IP_TOS) {
            Integer t = tos;
            return (T) (t == null ? Integer.valueOf(0) : t);
        }
        return server().channel().getOption(name);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void setOption(int optID, Object value) throws SocketException {
        if (optID == SocketOptions.SO_TIMEOUT) {
            timeout = LegacyOptions.timeout(value);
            return;
        }
        if (optID == SocketOptions.IP_TOS) {
            tos = (Integer) value;
            return;
        }
        SocketOption<Object> typed = (SocketOption<Object>) LegacyOptions.typed(optID);
        if (typed == null) {
            throw LegacyOptions.unsupported(optID);
        }
        try {
            server.channel().setOption(typed, LegacyOptions.toTyped(optID, value));
        } catch (IOException | UnsupportedOperationException e) {
            throw e instanceof IOException ? LegacyOptions.socketException((IOException) e) : LegacyOptions.unsupported(optID);
        }
    }

    @Override
    public Object getOption(int optID) throws SocketException {
        try {
            switch (optID) {
                case SocketOptions.SO_TIMEOUT:
                    return timeout;
                case SocketOptions.SO_BINDADDR:
                    InetSocketAddress b = server.bound();
                    return b != null ? b.getAddress() : InetAddress.getByName("0.0.0.0");
                case SocketOptions.IP_TOS:
                    Integer t = tos;
                    return t == null ? 0 : t;
                default:
                    SocketOption<?> typed = LegacyOptions.typed(optID);
                    if (typed == null) {
                        throw LegacyOptions.unsupported(optID);
                    }
                    return LegacyOptions.fromTyped(optID, server.channel().getOption(typed));
            }
        } catch (IOException e) {
            throw LegacyOptions.socketException(e);
        } catch (UnsupportedOperationException e) {
            throw LegacyOptions.unsupported(optID);
        }
    }
}
