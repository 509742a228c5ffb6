package org.mtcp.api;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.util.List;
import java.util.Map;

/**
 * MTCP socket options, used through the ordinary {@code setOption}/{@code getOption} of
 * {@link java.net.Socket} and {@link java.net.ServerSocket}, as the thesis used {@code setsockopt}.
 *
 * <table>
 *   <caption>Options and where they apply</caption>
 *   <tr><th>option</th><th>on</th><th>meaning</th></tr>
 *   <tr><td>{@link #APP_STATE}</td><td>accepted server socket</td><td>set = export_state, get = import_state</td></tr>
 *   <tr><td>{@link #MIGRATED}</td><td>accepted server socket</td><td>read-only: the connection arrived by migration</td></tr>
 *   <tr><td>{@link #ADDITIONAL_SERVERS}</td><td>server socket (set), client socket (get)</td><td>alternates advertised to clients</td></tr>
 *   <tr><td>{@link #CONTROL_MAPPINGS}</td><td>server socket</td><td>service address to control address of every cooperating server</td></tr>
 *   <tr><td>{@link #CONTROL_TLS}</td><td>server socket</td><td>TLS 1.3 with mutual authentication on TCP control connections (set before {@link #CONTROL_MAPPINGS})</td></tr>
 *   <tr><td>{@link #CONTROL_OPEN_AHEAD}</td><td>server socket</td><td>open the control connections to the cooperating servers when they become known, not at the first migration</td></tr>
 *   <tr><td>{@link #DRAIN_ON_CLOSE}</td><td>server socket</td><td>closing it, or the JVM's shutdown, first moves its sessions to the advertised servers, within this deadline</td></tr>
 *   <tr><td>{@link #PLAIN_CLIENT_WAIT}</td><td>server socket</td><td>how long a silent new client is given to show it speaks MTCP</td></tr>
 *   <tr><td>{@link #PLAIN_CLIENTS}</td><td>server socket</td><td>whether clients that do not speak MTCP are served (as plain TCP)</td></tr>
 *   <tr><td>{@link #TRIGGER}</td><td>accepted server socket</td><td>write-only: ask the client to migrate</td></tr>
 *   <tr><td>{@link #MIGRATE}</td><td>client socket</td><td>write-only: migrate now, return when attached</td></tr>
 * </table>
 */
public final class MtcpOptions {
    private MtcpOptions() {
    }

    /**
     * The application state snapshot of an accepted connection. Setting it is the thesis's
     * {@code export_state}: the bytes become the restart point, and the library logs what the
     * application reads after it and keeps what it wrote before it until the client has it.
     * Getting it is {@code import_state}: the last snapshot taken for this session, on this or an
     * earlier server; an empty array on a new connection.
     *
     * <p>The snapshot must describe exactly the bytes the application has read from and written to
     * this socket's streams. Reading through a buffering wrapper (such as
     * {@link java.io.BufferedInputStream}) consumes bytes the snapshot does not account for; they
     * would be lost on migration.
     */
    public static final SocketOption<byte[]> APP_STATE = new Option<>("MTCP_APP_STATE", byte[].class);

    /** Read-only: {@code true} when this accepted connection arrived by migration. */
    public static final SocketOption<Boolean> MIGRATED = new Option<>("MTCP_MIGRATED", Boolean.class);

    /**
     * Alternate servers of the same service. Set on a server socket: advertised to every client at
     * the handshake (thesis {@code TCP_ADDSERVERS}). Get on a client socket: what the current server
     * advertised (an empty list before the handshake or for a server that advertised none).
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final SocketOption<List<InetSocketAddress>> ADDITIONAL_SERVERS =
            new Option<>("MTCP_ADDITIONAL_SERVERS", (Class<List<InetSocketAddress>>) (Class) List.class);

    /**
     * Service address to control address for every cooperating server, this one included (thesis
     * {@code TCP_CONTROL_MAPPINGS}). Setting it on a server socket starts its control listener at the
     * control address mapped to its own service address. An {@link InetSocketAddress} control address
     * means TCP; a {@link java.net.UnixDomainSocketAddress} means a same-host Unix-domain socket.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final SocketOption<Map<InetSocketAddress, SocketAddress>> CONTROL_MAPPINGS =
            new Option<>("MTCP_CONTROL_MAPPINGS", (Class<Map<InetSocketAddress, SocketAddress>>) (Class) Map.class);

    /**
     * TLS for the server's TCP control connections: an {@link javax.net.ssl.SSLContext} whose key
     * manager holds this server's certificate and private key, and whose trust manager trusts the
     * cluster's certificate authority. Set it on a server socket <em>before</em>
     * {@link #CONTROL_MAPPINGS}. From then on every TCP control connection, in either direction (loopback
     * ones included), opens with a TLS 1.3 handshake in which both servers present a certificate; the
     * control protocol runs inside TLS. A peer's certificate must be valid, as an HTTPS server's is,
     * for the host of that peer's control address in {@code CONTROL_MAPPINGS} (an IP subject
     * alternative name for an IP host, a DNS one for a name), on the opening and on the accepting side.
     * Unix-domain control connections never use TLS.
     *
     * <p>Without it, a TCP control address that is not a loopback address is refused: state transfers
     * carry session secrets and application state and must not cross a network in the clear. Getting it
     * returns the context set, or {@code null}. {@code org.mtcp.server.ControlTls} builds one from
     * PKCS#12 or PEM files.
     */
    public static final SocketOption<javax.net.ssl.SSLContext> CONTROL_TLS =
            new Option<>("MTCP_CONTROL_TLS", javax.net.ssl.SSLContext.class);

    /**
     * On a server socket: open the control connection to every other server of {@link #CONTROL_MAPPINGS}
     * as soon as both are set, and again for the servers without one whenever the mappings change (set
     * anew, or by a membership update), instead of at the first migration between the pair. Off by
     * default: the thesis opens a pair's connection lazily, on its first state request, which costs
     * nothing until servers migrate but puts the connect, the {@code CTRL_HELLO} (and with
     * {@link #CONTROL_TLS} a TLS handshake) on the path of that first migration, where a freshly started
     * server runs that code for the first time. Set it on servers that take sessions soon after they
     * start, as a deploy's new servers do when the old ones drain to them.
     *
     * <p>Set it on every server: a server opens ahead to the servers whose control listener is up at that
     * moment, and one started later opens to it when its own mappings are set. The connections are then
     * kept open: one that cannot be opened (the peer is not up yet) or that breaks is tried again after
     * 200 ms, the wait doubling with each failed try up to 10 s, for as long as the peer is in the mappings
     * and the option is on (turning it off closes nothing; a migration still opens a missing connection at
     * once, as without this option). Each pair still shares one connection. Its cost: an idle connection
     * (no thread) per cooperating server from the start, and at the start a connect (with
     * {@code CONTROL_TLS}, a TLS handshake) per cooperating server; for a peer that stays away, a refused
     * connect every 10 s.
     */
    public static final SocketOption<Boolean> CONTROL_OPEN_AHEAD = new Option<>("MTCP_CONTROL_OPEN_AHEAD", Boolean.class);

    /**
     * On a server socket: how long a new connection that has sent nothing is given before it is served
     * as a plain TCP client. An MTCP client speaks first (its handshake) as soon as it connects; a plain
     * client of a protocol where the server speaks first (SMTP, FTP, MySQL...) sends nothing, so its
     * {@code accept()} returns only after this wait. Plain clients that send first are told apart at
     * once. An MTCP client sends its handshake the moment its connection is up, so the server hears it
     * half a round trip after it accepts: keep the wait well above the network's round trip, or MTCP
     * clients on a slow path are taken for plain ones. Default: the {@code mtcp.detectMillis} system
     * property, 2 seconds without it. With
     * {@link #PLAIN_CLIENTS} off there is nothing to wait for: a silent client is dropped after this
     * time instead.
     */
    public static final SocketOption<java.time.Duration> PLAIN_CLIENT_WAIT =
            new Option<>("MTCP_PLAIN_CLIENT_WAIT", java.time.Duration.class);

    /**
     * On a server socket: drain on shutdown, the deploy story. When set to a positive duration,
     * {@code close()} and a normal JVM shutdown (SIGTERM, {@code System.exit}, the end of {@code main})
     * first stop accepting, then move every movable session to the servers it advertises
     * ({@link #ADDITIONAL_SERVERS}, spread round robin), waiting at most this long, and only then close,
     * after which whatever could not move ends as a plain socket's connection ends at exit. Sessions that
     * migrate away keep their clients connected; plain TCP clients cannot move. Off ({@code null} or zero)
     * by default: closing a server socket otherwise leaves its accepted sessions running.
     */
    public static final SocketOption<java.time.Duration> DRAIN_ON_CLOSE =
            new Option<>("MTCP_DRAIN_ON_CLOSE", java.time.Duration.class);

    /**
     * On a server socket: how long an MTCP session whose connection broke (a reset, an abort, the connection
     * ending without the library's end of stream, as when the client's process is killed or its network goes)
     * waits for its client to reconnect and resume it. Meanwhile the application's reads and writes just wait
     * (writes until the send window is full); past it they fail with an exception that says the client did not
     * come back in time. Default: the {@code mtcp.resumeGraceMillis} system property, 30 seconds without it.
     * Zero: no waiting, a broken connection ends the session as it ends a plain socket's. A client reconnects
     * for as long as its own {@code mtcp.resumeGraceMillis}.
     */
    public static final SocketOption<java.time.Duration> RESUME_GRACE =
            new Option<>("MTCP_RESUME_GRACE", java.time.Duration.class);

    /**
     * On a server socket: whether clients that do not speak MTCP are served, as plain,
     * non-migratable TCP connections ({@code true}, the default). {@code false} serves MTCP clients
     * only: a connection that does not open with the MTCP handshake is closed, and is never returned
     * by {@code accept()}.
     */
    public static final SocketOption<Boolean> PLAIN_CLIENTS = new Option<>("MTCP_PLAIN_CLIENTS", Boolean.class);

    /**
     * Write-only, on an accepted server socket: ask the client to migrate to the given server, or to
     * one of its choice with {@code null}. Returns at once; the outcome reaches
     * {@link MigrationListener}s. Throws {@link MigrationException} when the connection cannot migrate
     * (a plain TCP client), {@link ConnectionMigratedException} when the session has already moved, and
     * {@link IllegalArgumentException} for a server that is not in {@link #ADDITIONAL_SERVERS}: a client
     * follows a trigger only to a server it was told of.
     */
    public static final SocketOption<InetSocketAddress> TRIGGER = new Option<>("MTCP_TRIGGER", InetSocketAddress.class);

    /**
     * Write-only, on a client socket: migrate the session to the given server now. Returns when the
     * client is attached to the new server, or throws {@link MigrationException} with the session
     * still on the old server. Migrating to the current server returns at once.
     */
    public static final SocketOption<InetSocketAddress> MIGRATE = new Option<>("MTCP_MIGRATE", InetSocketAddress.class);

    private static final class Option<T> implements SocketOption<T> {
        private final String name;
        private final Class<T> type;

        Option(String name, Class<T> type) {
            this.name = name;
            this.type = type;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Class<T> type() {
            return type;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
