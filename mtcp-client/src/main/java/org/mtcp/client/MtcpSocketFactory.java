package org.mtcp.client;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A {@link SocketFactory} of {@link MtcpSocket}s, for libraries that take one (OkHttp,
 * Apache HttpClient, PostgreSQL JDBC...). {@link #createSocket()} returns an unconnected socket.
 */
public class MtcpSocketFactory extends SocketFactory {

    /** A factory of plain migratory sockets. */
    public MtcpSocketFactory() {
    }

    @Override
    public Socket createSocket() throws IOException {
        return new MtcpSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return new MtcpSocket(host, port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        MtcpSocket s = new MtcpSocket();
        s.bind(new InetSocketAddress(localHost, localPort));
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return new MtcpSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        MtcpSocket s = new MtcpSocket();
        s.bind(new InetSocketAddress(localAddress, localPort));
        s.connect(new InetSocketAddress(address, port));
        return s;
    }
}
