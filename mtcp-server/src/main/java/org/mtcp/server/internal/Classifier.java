package org.mtcp.server.internal;

import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.IoHandler;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Looks at the first bytes of an accepted connection, on the server's loop: the MTCP magic followed by
 * HELLO (a new session) or MIGRATE_REQ (a session arriving by migration), or anything else (a plain TCP
 * client, served as such). A client that says nothing for {@code mtcp.detectMillis} is plain too
 * (protocols where the server speaks first). Reads at most the magic and one small frame: an MTCP
 * client waits for the answer before it sends more.
 */
final class Classifier implements IoHandler {
    private static final Logger log = LoggerFactory.getLogger(Classifier.class);
    private static final int MAX_FIRST_FRAME = 256;

    // loop thread only: no field needs a lock
    private final Server server;
    private final SocketChannel channel;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final ByteBuffer buf = ByteBuffer.allocate(Wire.MAGIC.length + Wire.HEADER_SIZE + MAX_FIRST_FRAME);
    private SelectionKey key;
    private EventLoop.Timer timer;
    private boolean done;

    /** What an MTCP client may open with. */
    private final FrameReader.Handler opening = new FrameReader.Handler() {
        @Override
        public void onHello(Message.Hello m) throws IOException {
            server.newSession(channel, key, remote, local, m);
        }

        @Override
        public void onMigrateRequest(Message.MigrateRequest m) {
            IncomingTransfer.start(server, channel, key, remote, local, m);
        }
    };

    Classifier(Server server, SocketChannel channel, InetSocketAddress remote, InetSocketAddress local) {
        this.server = server;
        this.channel = channel;
        this.remote = remote;
        this.local = local;
    }

    void start(EventLoop loop) throws IOException {
        key = loop.register(channel, SelectionKey.OP_READ, this);
        timer = loop.schedule(TimeUnit.MILLISECONDS.toNanos(server.detectMillis()), new DetectDeadline());
    }

    /** Decides for a plain client once the detection time is over (a class: see ControlConnection.OpenDeadline). */
    private final class DetectDeadline implements Runnable {
        @Override
        public void run() {
            if (!done) {
                ready(key); // bytes may have arrived since the last selection: look before deciding
            }
            if (!done) {
                plain();
            }
        }
    }

    @Override
    public void ready(SelectionKey k) {
        if (done) {
            return;
        }
        try {
            int n = channel.read(buf);
            if (n < 0) {
                plain(); // a plain client that half-closed, after a few bytes or none: accept() returns it, as the JDK's
                return;
            }
            int have = buf.position();
            int magic = Math.min(have, Wire.MAGIC.length);
            if (!Arrays.equals(buf.array(), 0, magic, Wire.MAGIC, 0, magic)) {
                plain();
                return;
            }
            if (have < Wire.MAGIC.length) {
                return;
            }
            Message first = FrameReader.decodeOne(ByteBuffer.wrap(buf.array(), Wire.MAGIC.length, have - Wire.MAGIC.length),
                    MAX_FIRST_FRAME, "client " + remote);
            if (first == null) {
                return;
            }
            finish();
            key.interestOps(0);
            first.dispatch(opening);
        } catch (IOException | RuntimeException e) {
            log.debug("dropping connection from {}: {}", remote, e.toString());
            abandon(e.getMessage());
        }
    }

    private void finish() {
        done = true;
        if (timer != null) {
            timer.cancel();
        }
        server.classified();
    }

    private void plain() {
        if (!server.plainClients()) {
            abandon("it does not speak MTCP, and this server serves MTCP clients only (PLAIN_CLIENTS false)");
            return;
        }
        finish();
        byte[] prefix = Arrays.copyOf(buf.array(), buf.position());
        key.cancel();
        server.plainClient(new PlainConnection(channel, prefix, remote, local));
    }

    private void abandon(String why) {
        if (!done) {
            finish();
        }
        log.debug("connection from {} closed: {}", remote, why);
        key.cancel();
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }
}
