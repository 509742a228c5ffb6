package org.mtcp.samples.http;

import org.mtcp.api.MigrationEvent;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Cooperating web servers on loopback over one document root, named {@code S1}, {@code S2}, ...:
 * each knows every server's control address, advertises the others to its clients, and sends the
 * sessions its policy moves to the next server of the ring ({@code S1} to {@code S2}, ..., the last
 * to {@code S1}), so that a long download visits every server.
 */
public final class HttpCluster implements Closeable {
    private final List<HttpFileServer> servers;

    private HttpCluster(List<HttpFileServer> servers) {
        this.servers = servers;
    }

    /**
     * Starts {@code count} cooperating servers on the loopback address.
     *
     * @param count        how many servers (at least 1)
     * @param documentRoot the directory every server serves
     * @param policies     makes each server's trigger policy (called once per server)
     * @return the running cluster
     * @throws IOException when a socket cannot be bound
     */
    public static HttpCluster start(int count, Path documentRoot, Supplier<TriggerPolicy> policies) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("need at least one server: " + count);
        }
        InetAddress lo = InetAddress.getLoopbackAddress();
        List<HttpFileServer> servers = new ArrayList<>();
        try {
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            // control ports: reserved all together so no port comes twice, released just before use
            List<ServerSocket> reserved = new ArrayList<>();
            try {
                for (int i = 0; i < count; i++) {
                    HttpFileServer s = new HttpFileServer("S" + (i + 1), documentRoot, lo, policies.get());
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
            for (int i = 0; i < count; i++) {
                HttpFileServer s = servers.get(i);
                List<InetSocketAddress> others = new ArrayList<>();
                for (int k = 1; k < count; k++) {
                    others.add(servers.get((i + k) % count).serviceAddress()); // the next one first
                }
                s.cooperate(mappings, others);
                s.setTriggerTarget(others.isEmpty() ? null : others.get(0));
                s.start();
            }
            return new HttpCluster(List.copyOf(servers));
        } catch (IOException | RuntimeException e) {
            for (HttpFileServer s : servers) {
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
    public List<HttpFileServer> servers() {
        return servers;
    }

    /**
     * @param index 0 for {@code S1}
     * @return that server
     */
    public HttpFileServer server(int index) {
        return servers.get(index);
    }

    /** @return the server clients connect to first ({@code S1}) */
    public InetSocketAddress entry() {
        return servers.get(0).serviceAddress();
    }

    /** @return every server's service address, {@code S1} first */
    public List<InetSocketAddress> serviceAddresses() {
        List<InetSocketAddress> all = new ArrayList<>();
        for (HttpFileServer s : servers) {
            all.add(s.serviceAddress());
        }
        return all;
    }

    /**
     * @param address a service address, as a client's {@code getRemoteSocketAddress()} or a
     *                {@link MigrationEvent} reports it
     * @return the name of the server there, or the address itself when it is none of these
     */
    public String nameOf(SocketAddress address) {
        for (HttpFileServer s : servers) {
            if (s.serviceAddress().equals(address)) {
                return s.name();
            }
        }
        return String.valueOf(address);
    }

    /** @return failures of every server's application copies so far */
    public List<Exception> failures() {
        List<Exception> all = new ArrayList<>();
        for (HttpFileServer s : servers) {
            all.addAll(s.failures());
        }
        return all;
    }

    /** @return the committed migrations, as their destinations saw them */
    public List<MigrationEvent> committedArrivals() {
        List<MigrationEvent> all = new ArrayList<>();
        for (HttpFileServer s : servers) {
            for (MigrationEvent e : s.migrationEvents()) {
                if (e.role() == MigrationEvent.Role.DESTINATION && e.committed()) {
                    all.add(e);
                }
            }
        }
        return all;
    }

    /** @return the library's committed-migration counters of every server, added up */
    public long committedByStatistics() {
        long n = 0;
        for (HttpFileServer s : servers) {
            n += s.statistics().committed();
        }
        return n;
    }

    /** Closes every server. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (HttpFileServer s : servers) {
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
