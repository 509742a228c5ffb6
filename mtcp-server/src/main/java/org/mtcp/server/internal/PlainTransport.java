package org.mtcp.server.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A control connection's bytes as they are: TCP on a loopback address, or a Unix-domain socket. */
final class PlainTransport implements ControlTransport {
    private final SocketChannel channel;

    PlainTransport(SocketChannel channel) {
        this.channel = channel;
    }

    @Override
    public boolean connect(SocketAddress to) throws IOException {
        return channel.connect(to);
    }

    @Override
    public boolean finishConnect() throws IOException {
        return channel.finishConnect();
    }

    @Override
    public boolean established() {
        return channel.isConnected();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public boolean hasBufferedInput() {
        return false;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return channel.write(srcs);
    }

    @Override
    public boolean wantsWrite() {
        return false;
    }

    @Override
    public void checkIdentity(InetSocketAddress claimed) {
        // nothing to check: a same-host peer (SO_PEERCRED on Unix-domain sockets), as before TLS
    }

    @Override
    public void close() {
        // the connection closes the channel
    }
}
