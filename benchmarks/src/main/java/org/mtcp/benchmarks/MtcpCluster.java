package org.mtcp.benchmarks;

import org.mtcp.api.MigrationListener;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;

/**
 * Cooperating MTCP servers on loopback: each has a service port, a TCP control port (from
 * {@code CONTROL_MAPPINGS}; optionally inside TLS, {@code CONTROL_TLS}), the others as alternates, and an {@link Acceptor} running the given
 * server application for every accepted (new or migrated) connection.
 */
public final class MtcpCluster implements AutoCloseable {
    private final List<MtcpServerSocket> servers = new ArrayList<>();
    private final List<InetSocketAddress> service = new ArrayList<>();
    private final List<Acceptor> acceptors = new ArrayList<>();

    /**
     * @param n   number of servers
     * @param app the server application
     * @throws IOException when a server cannot be bound or configured
     */
    public MtcpCluster(int n, Acceptor.App app) throws IOException {
        this(n, app, null);
    }

    /**
     * @param n   number of servers
     * @param app the server application
     * @param tls the {@code CONTROL_TLS} of each server, or {@code null} for plain control connections
     * @throws IOException when a server cannot be bound or configured
     */
    public MtcpCluster(int n, Acceptor.App app, SSLContext[] tls) throws IOException {
        boolean ok = false;
        try {
            for (int i = 0; i < n; i++) {
                MtcpServerSocket s = new MtcpServerSocket(0, 50, Net.LO);
                servers.add(s);
                service.add(Net.at(s.getLocalPort()));
            }
            int[] control = Net.freePorts(n);
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                mappings.put(service.get(i), Net.at(control[i]));
            }
            for (int i = 0; i < n; i++) {
                MtcpServerSocket s = servers.get(i);
                if (tls != null) {
                    s.setOption(MtcpOptions.CONTROL_TLS, tls[i]);
                }
                s.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
                List<InetSocketAddress> others = new ArrayList<>(service);
                others.remove(i);
                s.setOption(MtcpOptions.ADDITIONAL_SERVERS, others);
            }
            for (MtcpServerSocket s : servers) {
                acceptors.add(new Acceptor(s, app));
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    /**
     * @param i server index
     * @return its service address
     */
    public InetSocketAddress service(int i) {
        return service.get(i);
    }

    /**
     * @param i server index
     * @return the server socket
     */
    public MtcpServerSocket server(int i) {
        return servers.get(i);
    }

    /** @param listener told about every migration on every server */
    public void addMigrationListener(MigrationListener listener) {
        for (MtcpServerSocket s : servers) {
            s.addMigrationListener(listener);
        }
    }

    /** Closes every server and every connection it still serves. */
    @Override
    public void close() {
        for (Acceptor a : acceptors) {
            a.close();
        }
        for (MtcpServerSocket s : servers) {
            Acceptor.closeQuietly(s);
        }
    }
}
