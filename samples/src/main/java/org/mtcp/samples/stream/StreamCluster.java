package org.mtcp.samples.stream;

import org.mtcp.api.MigrationEvent;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Cooperating stream servers on loopback, named {@code S1}, {@code S2}, ...: each knows every
 * server's control address and advertises all the others to its clients as alternates.
 */
public final class StreamCluster implements Closeable {
    private final List<StreamServer> servers;

    private StreamCluster(List<StreamServer> servers) {
        this.servers = servers;
    }

    /**
     * Starts {@code count} cooperating servers on the loopback address.
     *
     * @param count             how many servers (at least 1)
     * @param stateBytes        application-state size of every server's snapshots
     * @param pacing            how every server writes and degrades
     * @param idleTimeoutMillis longest wait of a server for its client
     * @param log               where servers report failures
     * @return the running cluster
     * @throws IOException when a socket cannot be bound
     */
    public static StreamCluster start(int count, int stateBytes, ServerPacing pacing, int idleTimeoutMillis,
                                      Consumer<String> log) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("need at least one server: " + count);
        }
        InetAddress lo = InetAddress.getLoopbackAddress();
        List<StreamServer> servers = new ArrayList<>();
        try {
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            // control ports: reserved all together so no port comes twice, released just before use
            List<ServerSocket> reserved = new ArrayList<>();
            try {
                for (int i = 0; i < count; i++) {
                    StreamServer s = new StreamServer("S" + (i + 1), lo, stateBytes, pacing, idleTimeoutMillis, log);
                    servers.add(s);
                    ServerSocket free = new ServerSocket(0, 1, lo);
                    reserved.add(free);
                    mappings.put(s.serviceAddress(), new InetSocketAddress(lo, free.getLocalPort()));
                }
            } finally {
                for (ServerSocket r : reserved) {
                    r.close();
                }
            }
            for (StreamServer s : servers) {
                List<InetSocketAddress> others = new ArrayList<>();
                for (StreamServer o : servers) {
                    if (o != s) {
                        others.add(o.serviceAddress());
                    }
                }
                s.cooperate(mappings, others);
                s.start();
            }
            return new StreamCluster(List.copyOf(servers));
        } catch (IOException | RuntimeException e) {
            for (StreamServer s : servers) {
                try {
                    s.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** @return the servers, {@code S1} first */
    public List<StreamServer> servers() {
        return servers;
    }

    /** @return the server clients connect to first ({@code S1}) */
    public InetSocketAddress entry() {
        return servers.get(0).serviceAddress();
    }

    /**
     * @param address a service address, as a client's {@code getRemoteSocketAddress()} reports it
     * @return the name of the server there, or the address itself when it is none of these
     */
    public String nameOf(SocketAddress address) {
        for (StreamServer s : servers) {
            if (s.serviceAddress().equals(address)) {
                return s.name();
            }
        }
        return String.valueOf(address);
    }

    /** @return failures of every server's application copies so far */
    public List<Exception> failures() {
        List<Exception> all = new ArrayList<>();
        for (StreamServer s : servers) {
            all.addAll(s.failures());
        }
        return all;
    }

    /** @return the migrations the servers saw as destination, every server's in turn */
    public List<MigrationEvent> arrivals() {
        List<MigrationEvent> all = new ArrayList<>();
        for (StreamServer s : servers) {
            for (MigrationEvent e : s.migrationEvents()) {
                if (e.role() == MigrationEvent.Role.DESTINATION) {
                    all.add(e);
                }
            }
        }
        return all;
    }

    /** Closes every server. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (StreamServer s : servers) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
