package org.mtcp.server;

import org.mtcp.api.MtcpOptions;
import org.mtcp.internal.session.LegacyOptions;
import org.mtcp.server.internal.Accepted;
import org.mtcp.server.internal.PlainConnection;

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
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The {@link SocketImpl} of a socket accepted by {@link MtcpServerSocket}: an MTCP session, or a
 * plain TCP client served without migration. Both support APP_STATE and MIGRATED, so one server code
 * path serves both kinds of client. A plain client's socket behaves as a JDK socket, urgent data
 * included.
 */
final class AcceptedSocketImpl extends SocketImpl {
    private static final Set<SocketOption<?>> OPTIONS = supported();

    private volatile Accepted conn;
    private volatile int timeout;

    void attach(Accepted a) {
        conn = a;
        a.setReadTimeout(timeout);
        InetSocketAddress r = a.remote();
        address = r.getAddress();
        port = r.getPort();
        localport = a.local().getPort();
        // ServerSocket.implAccept gives a custom impl a fresh FileDescriptor, which nothing here uses (the session has
        // the channel): letting it go saves an idle session 40 bytes
        fd = null;
    }

    private Accepted conn() throws SocketException {
        Accepted a = conn;
        if (a == null) {
            throw new SocketException("Socket is not connected");
        }
        return a;
    }

    @Override
    protected void create(boolean stream) {
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        throw new SocketException("an accepted socket is connected already");
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        throw new SocketException("an accepted socket is connected already");
    }

    @Override
    protected void connect(SocketAddress address, int timeout) throws IOException {
        throw new SocketException("an accepted socket is connected already");
    }

    @Override
    protected void bind(InetAddress host, int port) throws IOException {
        throw new SocketException("an accepted socket is bound already");
    }

    @Override
    protected void listen(int backlog) throws IOException {
        throw new SocketException("an accepted socket cannot listen");
    }

    @Override
    protected void accept(SocketImpl s) throws IOException {
        throw new SocketException("an accepted socket cannot accept");
    }

    @Override
    protected InputStream getInputStream() throws IOException {
        return conn().input();
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
        return conn().output();
    }

    @Override
    protected int available() throws IOException {
        return conn().available();
    }

    @Override
    protected void close() throws IOException {
        Accepted a = conn;
        if (a != null) {
            a.close();
        }
    }

    @Override
    protected void shutdownInput() throws IOException {
        conn().shutdownInput();
    }

    @Override
    protected void shutdownOutput() throws IOException {
        conn().shutdownOutput();
    }

    @Override
    protected boolean supportsUrgentData() {
        return true; // as the JDK's: whether it works depends on the connection (plain clients only)
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        if (conn() instanceof PlainConnection) {
            ((PlainConnection) conn()).sendUrgentData(data);
            return;
        }
        throw new SocketException("MTCP sockets do not support urgent data");
    }

    @Override
    protected Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    @Override
    protected <T> void setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        if (name == MtcpOptions.APP_STATE) {
            conn().exportState((byte[]) Objects.requireNonNull(value, "state"));
        } else if (name == MtcpOptions.TRIGGER) {
            conn().trigger((InetSocketAddress) value);
        } else if (name == MtcpOptions.MIGRATED) {
            throw new SocketException("MIGRATED is read-only");
        } else if (name == MtcpOptions.MIGRATE || name == MtcpOptions.ADDITIONAL_SERVERS || name == MtcpOptions.CONTROL_MAPPINGS) {
            throw new SocketException(name + " does not apply to an accepted socket");
        } else if (OPTIONS.contains(name)) {
            LegacyOptions.checkValue(name, value);
            conn().setOption(name, value);
        } else {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (name == MtcpOptions.APP_STATE) {
            return (T) conn().importState();
        }
        if (name == MtcpOptions.MIGRATED) {
            return (T) Boolean.valueOf(conn().migrated());
        }
        if (name == MtcpOptions.TRIGGER || name == MtcpOptions.MIGRATE) {
            throw new SocketException(name + " is write-only");
        }
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        SocketChannel ch = conn().channel();
        if (ch == null) {
            throw new SocketException("Socket is closed");
        }
        try {
            return ch.getOption(name);
        } catch (java.nio.channels.ClosedChannelException e) {
            SocketException se = new SocketException("Socket closed");
            se.initCause(e);
            throw se;
        }
    }

    @Override
    public void setOption(int optID, Object value) throws SocketException {
        if (optID == SocketOptions.SO_TIMEOUT) {
            timeout = LegacyOptions.timeout(value);
            Accepted a = conn;
            if (a != null) {
                a.setReadTimeout(timeout);
            }
            return;
        }
        if (optID == SocketOptions.SO_OOBINLINE && conn instanceof PlainConnection) {
            try {
                ((PlainConnection) conn).setOobInline((Boolean) value);
            } catch (IOException e) {
                throw LegacyOptions.socketException(e);
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
            Accepted a = conn;
            try {
                return a != null ? a.local().getAddress() : InetAddress.getByName("0.0.0.0");
            } catch (IOException e) {
                throw LegacyOptions.socketException(e);
            }
        }
        if (optID == SocketOptions.SO_OOBINLINE && conn instanceof PlainConnection) {
            try {
                return ((PlainConnection) conn).oobInline();
            } catch (IOException e) {
                throw LegacyOptions.socketException(e);
            }
        }
        return LegacyOptions.get(optID, this::getOption, false);
    }

    /** @return a JDK socket's options, and the accepted socket's MTCP options */
    private static Set<SocketOption<?>> supported() {
        Set<SocketOption<?>> s = new HashSet<>(LegacyOptions.socketOptions());
        s.add(MtcpOptions.APP_STATE);
        s.add(MtcpOptions.MIGRATED);
        s.add(MtcpOptions.TRIGGER);
        return Collections.unmodifiableSet(s);
    }
}
