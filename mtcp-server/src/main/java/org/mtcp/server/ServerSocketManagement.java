package org.mtcp.server;

import org.mtcp.api.MigrationStatistics;
import org.mtcp.api.MtcpOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A server socket's {@link MtcpServerSocketMXBean}: registered while it is bound. */
final class ServerSocketManagement implements MtcpServerSocketMXBean {
    private static final Logger log = LoggerFactory.getLogger(ServerSocketManagement.class);
    private static final long MOVE_WAIT_SECONDS = 40;
    private static final long DRAIN_WAIT_SECONDS = 60;

    private final MtcpServerSocket socket;
    /** The name it is registered under, or {@code null}; guarded by this. */
    private ObjectName name;

    ServerSocketManagement(MtcpServerSocket socket) {
        this.socket = socket;
    }

    /** Registers under {@code org.mtcp:type=MtcpServerSocket,port=P} (with the address when that name is taken). */
    synchronized void register() {
        if (name != null) {
            return;
        }
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        String base = "org.mtcp:type=MtcpServerSocket,port=" + socket.getLocalPort();
        try {
            ObjectName n = new ObjectName(base);
            try {
                mbs.registerMBean(this, n);
            } catch (InstanceAlreadyExistsException e) {
                n = new ObjectName(base + ",address=" + ObjectName.quote(socket.getInetAddress().getHostAddress()));
                mbs.registerMBean(this, n);
            }
            name = n;
        } catch (JMException | RuntimeException e) {
            log.warn("server socket {}: not registered in the platform MBean server: {}", socket.getLocalSocketAddress(),
                    e.toString());
        }
    }

    /** Unregisters, if registered. */
    synchronized void unregister() {
        if (name == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (JMException e) {
            log.debug("unregistering {}: {}", name, e.toString());
        }
        name = null;
    }

    /** @return the name it is registered under, or {@code null} */
    synchronized ObjectName name() {
        return name;
    }

    @Override
    public int getSessionCount() {
        return socket.sessions().size();
    }

    @Override
    public String[] getSessionIds() {
        return socket.sessions().stream().map(SessionInfo::id).toArray(String[]::new);
    }

    @Override
    public String[] getSessions() {
        return socket.sessions().stream().map(i -> i.id() + " client " + text(i.client()) + (i.migrated() ? " migrated" : "")
                + " read " + i.bytesRead() + " written " + i.bytesWritten() + " migrations " + i.migrations()
                + (i.movable() ? " movable" : " not-movable")).toArray(String[]::new);
    }

    @Override
    public String[] getAdvertisedServers() {
        try {
            return socket.getOption(MtcpOptions.ADDITIONAL_SERVERS).stream().map(ServerSocketManagement::text)
                    .toArray(String[]::new);
        } catch (IOException e) {
            return new String[0];
        }
    }

    private MigrationStatistics stats() {
        return socket.statistics();
    }

    @Override
    public long getMigrationsStarted() {
        return stats().started();
    }

    @Override
    public long getMigrationsCommitted() {
        return stats().committed();
    }

    @Override
    public long getMigrationsFailed() {
        return stats().failed();
    }

    @Override
    public Map<String, Long> getMigrationsFailedByReason() {
        Map<String, Long> out = new LinkedHashMap<>();
        stats().failedByReason().forEach((r, n) -> out.put(r.name(), n));
        return out;
    }

    @Override
    public long getBytesReplayed() {
        return stats().bytesReplayed();
    }

    @Override
    public long getBytesResent() {
        return stats().bytesResent();
    }

    @Override
    public long getDuplicateBytesDropped() {
        return stats().duplicateBytesDropped();
    }

    @Override
    public String[] getControlPeers() {
        org.mtcp.server.internal.ControlEndpoint c = socket.server().control();
        if (c == null) {
            return new String[0];
        }
        return c.peerStates().stream()
                .map(p -> text(p.peer()) + " control " + text(p.control()) + ": " + p.state()).toArray(String[]::new);
    }

    @Override
    public String[] getControlCloseReasons() {
        org.mtcp.server.internal.ControlEndpoint c = socket.server().control();
        return c == null ? new String[0] : c.recentCloseReasons().toArray(new String[0]);
    }

    @Override
    public String move(String sessionId, String target) {
        return text(await(socket.move(sessionId, address(target)).thenApply(org.mtcp.api.MigrationEvent::to),
                MOVE_WAIT_SECONDS, "moving " + sessionId + " to " + target));
    }

    @Override
    public int drain(String target) {
        List<InetSocketAddress> targets = new ArrayList<>();
        for (String t : target.split(",")) {
            if (!t.isBlank()) {
                targets.add(address(t.trim()));
            }
        }
        Duration d;
        try {
            d = socket.getOption(MtcpOptions.DRAIN_ON_CLOSE);
        } catch (IOException e) {
            d = Duration.ZERO;
        }
        long seconds = d == null || d.isZero() ? DRAIN_WAIT_SECONDS : Math.max(1, d.toSeconds());
        return await(socket.drain(targets), seconds, "draining to " + target);
    }

    @Override
    public String requestMove(String server, String sessionId, String target) {
        return text(await(socket.requestMove(address(server), sessionId, address(target)), MOVE_WAIT_SECONDS,
                "asking " + server + " to move " + sessionId + " to " + target));
    }

    private static <T> T await(CompletableFuture<T> f, long seconds, String what) {
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String reason = c instanceof org.mtcp.api.MigrationException ? ((org.mtcp.api.MigrationException) c).reason() + ": " : "";
            throw new IllegalStateException(what + " failed: " + reason + c.getMessage());
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + ": no outcome within " + seconds + " s (it goes on)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted");
        }
    }

    /** @return {@code host:port} or {@code [v6]:port} parsed and resolved */
    static InetSocketAddress address(String text) {
        String t = text == null ? "" : text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("not host:port: " + text);
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not host:port: " + text);
        }
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("unknown host in " + text);
        }
        return a;
    }

    /** @return a control address: {@code host:port}, or a Unix-domain socket's path */
    static String text(java.net.SocketAddress a) {
        return a instanceof InetSocketAddress ? text((InetSocketAddress) a) : String.valueOf(a);
    }

    static String text(InetSocketAddress a) {
        if (a == null) {
            return "";
        }
        String h = a.getAddress().getHostAddress();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }
}
