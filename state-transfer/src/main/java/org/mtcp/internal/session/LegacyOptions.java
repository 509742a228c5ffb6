package org.mtcp.internal.session;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketOptions;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * The int-keyed {@link SocketOptions} through which {@code Socket.setTcpNoDelay} and friends reach a
 * {@code SocketImpl}, mapped onto the typed {@link StandardSocketOptions} the channels understand.
 * The impls handle {@code SO_TIMEOUT}, {@code SO_BINDADDR} and {@code SO_OOBINLINE} themselves.
 */
public final class LegacyOptions {
    private static final Set<SocketOption<?>> SOCKET_OPTIONS = socketOptions0();

    private LegacyOptions() {
    }

    /**
     * @return the options of a JDK {@code java.net.Socket} ({@code new Socket().supportedOptions()}): a TCP
     *         channel's, without the JDK-internal {@code SO_OOBINLINE} that sockets reach through
     *         {@code setOOBInline} only
     */
    public static Set<SocketOption<?>> socketOptions() {
        return SOCKET_OPTIONS;
    }

    private static Set<SocketOption<?>> socketOptions0() {
        Set<SocketOption<?>> s = new HashSet<>();
        try (SocketChannel ch = SocketChannel.open()) {
            for (SocketOption<?> o : ch.supportedOptions()) {
                if (!"SO_OOBINLINE".equals(o.name())) {
                    s.add(o);
                }
            }
        } catch (IOException e) {
            s.add(StandardSocketOptions.TCP_NODELAY);
            s.add(StandardSocketOptions.SO_KEEPALIVE);
            s.add(StandardSocketOptions.SO_SNDBUF);
            s.add(StandardSocketOptions.SO_RCVBUF);
            s.add(StandardSocketOptions.SO_REUSEADDR);
            s.add(StandardSocketOptions.SO_LINGER);
            s.add(StandardSocketOptions.IP_TOS);
        }
        return Collections.unmodifiableSet(s);
    }

    /**
     * Checks a typed option's value as the JDK's socket does before setting it.
     *
     * @throws IllegalArgumentException "Invalid value 'null'" and the like
     */
    public static void checkValue(SocketOption<?> name, Object value) {
        if (!name.type().isInstance(value)) {
            throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
    }

    /** Sets a typed option (a socket impl's own {@code setOption}). */
    @FunctionalInterface
    public interface TypedSetter {
        /** @param name the option @param value its value */
        void set(SocketOption<Object> name, Object value) throws IOException;
    }

    /** Gets a typed option (a socket impl's own {@code getOption}). */
    @FunctionalInterface
    public interface TypedGetter {
        /** @param name the option @return its value */
        Object get(SocketOption<?> name) throws IOException;
    }

    /** @return a validated {@code SO_TIMEOUT} value */
    public static int timeout(Object value) {
        int t = (Integer) value;
        if (t < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        return t;
    }

    /**
     * Sets an int-keyed option other than {@code SO_TIMEOUT} and {@code SO_BINDADDR} on a connected
     * (or connecting) socket: urgent data is refused, the rest goes to the typed option.
     */
    @SuppressWarnings("unchecked")
    public static void set(int optID, Object value, TypedSetter setter) throws SocketException {
        if (optID == SocketOptions.SO_OOBINLINE) {
            if (Boolean.TRUE.equals(value)) {
                throw new SocketException("MTCP sockets do not support urgent data");
            }
            return;
        }
        SocketOption<Object> typed = (SocketOption<Object>) typed(optID);
        if (typed == null) {
            throw unsupported(optID);
        }
        try {
            setter.set(typed, toTyped(optID, value));
        } catch (IOException e) {
            throw socketException(e);
        }
    }

    /**
     * Gets an int-keyed option other than {@code SO_TIMEOUT} and {@code SO_BINDADDR} of a socket.
     *
     * @param unset what to answer for a value the socket does not have yet, by type (boolean, int)
     */
    public static Object get(int optID, TypedGetter getter, boolean unset) throws SocketException {
        if (optID == SocketOptions.SO_OOBINLINE) {
            return Boolean.FALSE;
        }
        SocketOption<?> typed = typed(optID);
        if (typed == null) {
            throw unsupported(optID);
        }
        try {
            Object v = getter.get(typed);
            if (v == null && unset && typed.type() == Boolean.class) {
                v = Boolean.FALSE;
            } else if (v == null && unset && typed != StandardSocketOptions.SO_LINGER) {
                v = 0;
            }
            return fromTyped(optID, v);
        } catch (IOException e) {
            throw socketException(e);
        }
    }

    /** @return the typed option for an int-keyed id, or {@code null} for ids that have none */
    public static SocketOption<?> typed(int optID) {
        switch (optID) {
            case SocketOptions.TCP_NODELAY:
                return StandardSocketOptions.TCP_NODELAY;
            case SocketOptions.SO_KEEPALIVE:
                return StandardSocketOptions.SO_KEEPALIVE;
            case SocketOptions.SO_SNDBUF:
                return StandardSocketOptions.SO_SNDBUF;
            case SocketOptions.SO_RCVBUF:
                return StandardSocketOptions.SO_RCVBUF;
            case SocketOptions.SO_REUSEADDR:
                return StandardSocketOptions.SO_REUSEADDR;
            case SocketOptions.IP_TOS:
                return StandardSocketOptions.IP_TOS;
            case SocketOptions.SO_LINGER:
                return StandardSocketOptions.SO_LINGER;
            default:
                return null;
        }
    }

    /** @return an int-keyed value as the typed option takes it (SO_LINGER: {@code false} means off, -1) */
    public static Object toTyped(int optID, Object value) {
        if (optID == SocketOptions.SO_LINGER && !(value instanceof Integer)) {
            return -1;
        }
        return value;
    }

    /** @return a typed value as the int-keyed API returns it (SO_LINGER off is {@code false}) */
    public static Object fromTyped(int optID, Object value) {
        if (optID == SocketOptions.SO_LINGER && (value == null || (Integer) value < 0)) {
            return Boolean.FALSE;
        }
        return value;
    }

    /** @return the failure as the int-keyed API must throw it */
    public static SocketException socketException(IOException e) {
        if (e instanceof SocketException) {
            return (SocketException) e;
        }
        String m = e.getMessage() != null ? e.getMessage()
                : e instanceof java.nio.channels.ClosedChannelException ? "Socket is closed" : e.toString();
        SocketException se = new SocketException(m);
        se.initCause(e);
        return se;
    }

    /** @return the int-keyed API's answer to an option it does not support */
    public static SocketException unsupported(int optID) {
        return new SocketException("socket option " + optID + " not supported");
    }
}
