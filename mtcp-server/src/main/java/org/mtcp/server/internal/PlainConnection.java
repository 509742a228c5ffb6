package org.mtcp.server.internal;

import org.mtcp.api.MigrationException;
import org.mtcp.internal.io.ChannelStreams;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;

/**
 * A client that does not speak MTCP, served as a plain, non-migratable TCP connection. The channel
 * stays non-blocking (it was classified by the I/O loop); its streams ({@link ChannelStreams}) behave
 * as a JDK socket's. The bytes read while classifying come first. APP_STATE is kept so that one
 * server code path serves both kinds of client.
 */
public final class PlainConnection implements Accepted {
    private final SocketChannel channel;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final ChannelStreams streams;
    private volatile byte[] state = new byte[0];

    PlainConnection(SocketChannel channel, byte[] prefix, InetSocketAddress remote, InetSocketAddress local) {
        this.channel = channel;
        this.streams = new ChannelStreams(channel, prefix);
        this.remote = remote;
        this.local = local;
    }

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public InetSocketAddress local() {
        return local;
    }

    @Override
    public InputStream input() {
        return streams.input();
    }

    @Override
    public OutputStream output() {
        return streams.output();
    }

    @Override
    public void setReadTimeout(int timeoutMillis) {
        streams.setTimeout(timeoutMillis);
    }

    @Override
    public int available() throws IOException {
        return streams.available();
    }

    @Override
    public void exportState(byte[] s) {
        state = s.clone();
    }

    @Override
    public byte[] importState() {
        return state.clone();
    }

    @Override
    public boolean migrated() {
        return false;
    }

    @Override
    public void trigger(InetSocketAddress to) throws IOException {
        throw new MigrationException("cannot migrate the connection from " + remote + ": the client speaks plain TCP, not MTCP",
                MigrationException.Reason.INVALID_STATE, true, null);
    }

    @Override
    public void shutdownOutput() throws IOException {
        streams.shutdownOutput();
    }

    @Override
    public void shutdownInput() throws IOException {
        streams.shutdownInput();
    }

    @Override
    public void close() throws IOException {
        streams.close();
    }

    @Override
    public SocketChannel channel() {
        return channel;
    }

    @Override
    public <T> void setOption(SocketOption<T> name, T value) throws IOException {
        channel.setOption(name, value);
    }

    /** Sends one byte of urgent data, as a JDK socket does. */
    public void sendUrgentData(int data) throws IOException {
        streams.sendUrgentData(data);
    }

    /** @param on whether urgent data from the client is read inline */
    public void setOobInline(boolean on) throws IOException {
        streams.setOobInline(on);
    }

    /** @return whether urgent data from the client is read inline */
    public boolean oobInline() throws IOException {
        return streams.oobInline();
    }
}
