package org.mtcp.client;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.io.ChannelStreams;
import org.mtcp.internal.io.ChannelWaiter;
import org.mtcp.internal.observe.MigrationRecorder;
import org.mtcp.internal.session.LegacyOptions;
import org.mtcp.internal.session.SessionInputStream;
import org.mtcp.internal.session.SessionOutputStream;
import org.mtcp.internal.session.Settings;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.net.SocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * The client {@link SocketImpl}: an MTCP session for destinations that speak MTCP, a plain TCP
 * channel for the others. Socket options the application sets are kept and applied to every
 * connection the session opens, so they survive migrations. After a migration the protected
 * {@code address}, {@code port} and {@code localport} fields describe the new connection, so
 * {@code Socket.getInetAddress()} and friends name the server the session is on now.
 *
 * <p>As the JDK's socket, the impl opens its channel when it is created: options of an unconnected
 * socket are the channel's, and {@code bind} binds at once. Whichever path connects takes that
 * channel. The plain path ("pass-through") keeps it non-blocking behind {@link ChannelStreams}, which
 * behave as the JDK's socket streams (interrupts, timeouts, exceptions, linger, urgent data).
 */
final class ClientSocketImpl extends SocketImpl {
    private static final Set<SocketOption<?>> OPTIONS = supported();
    /** Closes the channel of a socket the application dropped without closing, as the JDK's socket cleaner does. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final Predicate<InetSocketAddress> speaksMtcp;
    /** Listeners and counters, shared with the session. */
    final MigrationRecorder recorder;
    /** The factory's recorder, which counts this socket's migrations too, or {@code null}. */
    private final MigrationRecorder parent;
    /** Standard options set by the application, in order, or {@code null} while none is; guarded by this. */
    private Map<SocketOption<?>, Object> options;
    private volatile MigrationPolicy policy;
    private volatile InetSocketAddress localBind;
    private volatile int timeout;
    /** The channel opened by {@link #create}, until a path takes it at connect. */
    private volatile SocketChannel own;
    /**
     * Closes {@link #own}, or the pass-through's channel, once this impl is unreachable; let go (with its cleaner
     * registration) when a session takes the channel, which then closes it. Guarded by this.
     */
    private Unreachable unreachable;
    /** {@link #unreachable}'s registration with {@link #CLEANER}; guarded by this. */
    private Cleaner.Cleanable unreachableCleanup;
    /** Waiters of threads connecting {@link #own}, a close wakes them; {@code null} outside {@link #connect}. */
    private volatile Set<ChannelWaiter> connecting;
    /** What the session calls back: one object for the three callbacks (an idle session's bytes count). */
    private final SessionHooks hooks = new SessionHooks();
    private volatile ClientSession session;
    private volatile ChannelStreams plain;
    private volatile boolean closed;
    private InputStream input;
    private OutputStream output;

    ClientSocketImpl(Predicate<InetSocketAddress> speaksMtcp) {
        this(speaksMtcp, null);
    }

    /** @param parent a recorder that counts this socket's migrations and duplicates too (its factory's), or {@code null} */
    ClientSocketImpl(Predicate<InetSocketAddress> speaksMtcp, MigrationRecorder parent) {
        this.speaksMtcp = speaksMtcp;
        this.parent = parent;
        this.recorder = ClientSession.newRecorder(parent);
    }

    /** @return duplicates the live session dropped so far, 0 once closed (then its factory's recorder has them) */
    long liveDuplicates() {
        ClientSession s = session;
        return s == null || closed ? 0 : s.duplicatesDropped();
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
        ownChannel();
    }

    /** @return the impl's own channel, opened now if it is not yet (create is lazy in {@code Socket}) */
    private SocketChannel ownChannel() throws IOException {
        synchronized (this) {
            SocketChannel ch = own;
            if (ch == null) {
                if (closed) {
                    throw new SocketException("Socket closed");
                }
                ch = SocketChannel.open();
                ch.configureBlocking(false);
                own = ch;
                unreachable = new Unreachable();
                unreachable.channel = ch;
                unreachableCleanup = CLEANER.register(this, unreachable);
            }
            return ch;
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
        SocketChannel ch = ownChannel();
        boolean mtcp = speaksMtcp.test(to);
        try {
            // the MTCP path's timeout covers the handshake too, with a default (a server that never answers)
            int t = timeoutMillis > 0 || !mtcp ? timeoutMillis : (int) Settings.HANDSHAKE_TIMEOUT_MILLIS;
            long start = System.nanoTime();
            long deadline = t > 0 ? start + TimeUnit.MILLISECONDS.toNanos(t) : Long.MAX_VALUE;
            Set<ChannelWaiter> waiting = new CopyOnWriteArraySet<>();
            connecting = waiting;
            ChannelStreams.connect(ch, to, deadline, waiting);
            if (closed) {
                throw new SocketException("Socket closed");
            }
            int connectedPort = ChannelStreams.localPort(ch); // now: a server may end the session right after the handshake
            if (mtcp) {
                int left = (int) Math.max(1, t - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                ClientSession s = ClientSession.connect(to, ch, localBind, left, hooks, hooks, recorder, policy);
                own = null;
                sessionOwnsChannel();
                session = s;
                if (closed) { // closed while the handshake ran
                    s.close();
                    throw new SocketException("Socket closed");
                }
                SocketChannel sc = s.channel();
                switched(s.server(), to, sc == null || sc == ch ? connectedPort : ChannelStreams.localPort(sc));
            } else {
                ChannelStreams p = new ChannelStreams(ch, new byte[0]);
                p.setTimeout(timeout);
                own = null;
                plain = p;
                if (closed) {
                    p.close();
                    throw new SocketException("Socket closed");
                }
                address = to.getAddress();
                port = to.getPort();
                localport = connectedPort;
            }
        } catch (IOException | RuntimeException e) {
            // as the JDK's socket, a failed connect closes the impl
            boolean byClose = closed;
            closed = true;
            ch.close();
            if (byClose || e instanceof ClosedChannelException) {
                SocketException se = new SocketException("Socket closed");
                se.initCause(e);
                throw se;
            }
            throw e;
        } finally {
            connecting = null;
        }
    }

    /** The session's callbacks into this impl: its options for each new connection, each switch, the read timeout. */
    private final class SessionHooks implements Consumer<SocketChannel>, ClientSession.SwitchListener, IntSupplier {
        @Override
        public void accept(SocketChannel ch) {
            applyOptions(ch);
        }

        @Override
        public void switched(InetSocketAddress server, InetSocketAddress remote, int localPort) {
            ClientSocketImpl.this.switched(server, remote, localPort);
        }

        @Override
        public int getAsInt() {
            return timeout;
        }
    }

    /** The session has the channel now and closes it: the cleaning action and its registration go (an idle session's bytes). */
    private synchronized void sessionOwnsChannel() {
        Unreachable u = unreachable;
        if (u != null) {
            u.channel = null;
            unreachableCleanup.clean(); // runs the action on nothing and deregisters it
            unreachable = null;
            unreachableCleanup = null;
        }
    }

    /** The cleaning action: it must not refer to the impl. */
    private static final class Unreachable implements Runnable {
        volatile SocketChannel channel;

        @Override
        public void run() {
            SocketChannel ch = channel;
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing more to release
                }
            }
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
                if (options == null) {
                    return;
                }
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
        SocketChannel ch = ownChannel();
        InetSocketAddress at = new InetSocketAddress(host, port);
        ch.bind(at); // binds now, as the JDK: the port is known, a port in use fails here
        localBind = at; // later connections (migrations) bind to what the application asked for
        localport = ((InetSocketAddress) ch.getLocalAddress()).getPort();
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
                ChannelStreams p = plain;
                if (s != null) {
                    input = new SessionInputStream(s, hooks);
                } else if (p != null) {
                    input = p.input();
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
                ChannelStreams p = plain;
                if (s != null) {
                    output = new SessionOutputStream(s);
                } else if (p != null) {
                    output = p.output();
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
        ChannelStreams p = plain;
        return p == null ? 0 : p.available();
    }

    @Override
    protected void close() throws IOException {
        boolean first;
        synchronized (this) {
            first = !closed;
            closed = true;
        }
        ClientSession s = session;
        if (s != null) {
            s.close();
            if (first && parent != null) {
                parent.duplicatesDropped(s.duplicatesDropped()); // the factory's count keeps them after the socket is gone
            }
        }
        ChannelStreams p = plain;
        if (p != null) {
            p.close();
        }
        SocketChannel ch;
        synchronized (this) {
            ch = own;
            own = null;
        }
        if (ch != null) { // not connected, or connecting: the connecting thread fails with "Socket closed"
            ch.close();
            Set<ChannelWaiter> waiting = connecting;
            for (ChannelWaiter w : waiting == null ? Set.<ChannelWaiter>of() : waiting) {
                w.forget(ch);
            }
        }
    }

    @Override
    protected void shutdownInput() throws IOException {
        ClientSession s = session;
        ChannelStreams p = plain;
        if (s != null) {
            s.shutdownInput();
        } else if (p != null) {
            p.shutdownInput();
        }
    }

    @Override
    protected void shutdownOutput() throws IOException {
        ClientSession s = session;
        ChannelStreams p = plain;
        if (s != null) {
            s.shutdownOutput();
        } else if (p != null) {
            p.shutdownOutput();
        }
    }

    @Override
    protected boolean supportsUrgentData() {
        return true; // as the JDK's: whether it works depends on the connection (plain TCP only)
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        ChannelStreams p = plain;
        if (p != null) {
            p.sendUrgentData(data);
            return;
        }
        if (session == null) {
            throw new SocketException("Not connected"); // the JDK's words
        }
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
        LegacyOptions.checkValue(name, value);
        synchronized (this) {
            if (options == null) {
                options = new LinkedHashMap<>();
            }
            options.put(name, value); // SO_LINGER < 0 too: it turns linger off on the session's later connections
        }
        if (session != null && ClientSession.HEARTBEAT_OPTIONS.contains(name)) {
            return; // the session's heartbeat owns keepalive on its connections; the value is kept and shown
        }
        SocketChannel ch = currentChannel();
        if (ch != null) {
            try {
                ch.setOption(name, value);
            } catch (ClosedChannelException e) {
                throw closedException(e);
            }
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
        if (session != null && ClientSession.HEARTBEAT_OPTIONS.contains(name)) {
            return heartbeatOptionShown(name);
        }
        SocketChannel ch = currentChannel();
        if (ch != null) {
            try {
                return ch.getOption(name);
            } catch (ClosedChannelException e) {
                throw closedException(e);
            }
        }
        synchronized (this) {
            return options == null ? null : (T) options.get(name);
        }
    }

    /** @return what the application set for a keepalive option, or what a fresh socket has */
    @SuppressWarnings("unchecked")
    private <T> T heartbeatOptionShown(SocketOption<T> name) throws IOException {
        synchronized (this) {
            if (options != null && options.containsKey(name)) {
                return (T) options.get(name);
            }
        }
        try (SocketChannel fresh = SocketChannel.open()) {
            return fresh.getOption(name);
        }
    }

    /** @return the JDK's failure for an option of a socket whose impl closed (a failed connect closes it, as the JDK's) */
    private static SocketException closedException(ClosedChannelException cause) {
        SocketException e = new SocketException("Socket closed");
        e.initCause(cause);
        return e;
    }

    private SocketChannel currentChannel() {
        ClientSession s = session;
        if (s != null) {
            return s.channel();
        }
        ChannelStreams p = plain;
        return p != null ? p.channel() : own;
    }

    @Override
    public void setOption(int optID, Object value) throws SocketException {
        if (optID == SocketOptions.SO_TIMEOUT) {
            timeout = LegacyOptions.timeout(value);
            ChannelStreams p = plain;
            if (p != null) {
                p.setTimeout(timeout);
            }
            return;
        }
        if (optID == SocketOptions.SO_OOBINLINE && session == null) { // plain TCP, or not connected yet
            try {
                SocketChannel ch = currentChannel();
                if (ch == null) {
                    throw new SocketException("Socket closed");
                }
                ch.setOption(ChannelStreams.oobInline(ch), (Boolean) value);
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
        if (optID == SocketOptions.SO_OOBINLINE && session == null) {
            try {
                SocketChannel ch = currentChannel();
                return ch != null && ch.getOption(ChannelStreams.oobInline(ch));
            } catch (IOException e) {
                throw LegacyOptions.socketException(e);
            }
        }
        return LegacyOptions.get(optID, this::getOption, true); // between connections of a migration: a fresh socket's value
    }

    /** @return a JDK socket's options, and the client's MTCP options */
    private static Set<SocketOption<?>> supported() {
        Set<SocketOption<?>> s = new HashSet<>(LegacyOptions.socketOptions());
        s.add(MtcpOptions.MIGRATE);
        s.add(MtcpOptions.ADDITIONAL_SERVERS);
        return Collections.unmodifiableSet(s);
    }
}
