package org.mtcp.benchmarks;

import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * One loopback server running a server application, either on a plain {@link ServerSocket} or as a
 * one-server {@link MtcpCluster} (with its control mapping, as deployed), plus the matching client.
 */
public final class BenchServer implements AutoCloseable {
    private final boolean mtcp;
    private final MtcpCluster cluster;
    private final Acceptor plain;
    private final int port;

    private BenchServer(boolean mtcp, Acceptor.App app) throws IOException {
        this.mtcp = mtcp;
        if (mtcp) {
            cluster = new MtcpCluster(1, app);
            plain = null;
            port = cluster.service(0).getPort();
        } else {
            cluster = null;
            plain = new Acceptor(new ServerSocket(0, 50, Net.LO), app);
            port = plain.server().getLocalPort();
        }
    }

    /**
     * @param mtcp {@code true} for an MTCP server, {@code false} for a plain one
     * @param app  the server application
     * @return the running server
     * @throws IOException when it cannot be started
     */
    public static BenchServer start(boolean mtcp, Acceptor.App app) throws IOException {
        return new BenchServer(mtcp, app);
    }

    /** @return the service port */
    public int port() {
        return port;
    }

    /**
     * @return an unconnected client of the matching kind ({@link MtcpSocket} or {@link Socket})
     * @throws IOException when the socket cannot be created
     */
    public Socket newClient() throws IOException {
        return mtcp ? new MtcpSocket() : new Socket();
    }

    /**
     * @return a connected client with the JDK's default options (Nagle on, as on the server side)
     *         and the benchmark read timeout
     * @throws IOException when it cannot connect
     */
    public Socket connect() throws IOException {
        Socket s = newClient();
        s.setSoTimeout(Net.SO_TIMEOUT_MS);
        s.connect(Net.at(port));
        return s;
    }

    @Override
    public void close() {
        if (cluster != null) {
            cluster.close();
        }
        if (plain != null) {
            plain.close();
        }
    }
}
