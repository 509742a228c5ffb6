package org.mtcp.internal.session;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.internal.buffer.ChunkPool;
import org.mtcp.internal.buffer.SendBuffer;
import org.mtcp.internal.testkit.Seeds;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LinkOutput} over a real loopback connection whose peer reads only now and then, so that the kernel takes
 * writes in part: DATA frames of random sizes (the copied small frames and the gathering writes) mixed with ACK
 * frames, cut anywhere, header bytes included. What the peer reads, parsed by {@link FrameReader}, must be exactly
 * the stream offered, each ACK between the same DATA bytes as when it was queued. Seeds: {@code -Dmtcp.test.seed}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LinkOutputTest {
    private static final int STREAM_BYTES = 768 * 1024;

    @RegisterExtension
    final Seeds seeds = new Seeds();

    @RepeatedTest(5)
    void partialWritesKeepEveryFrameWholeAndInOrder() throws IOException {
        Random r = seeds.random();
        byte[] stream = new byte[STREAM_BYTES];
        r.nextBytes(stream);
        SendBuffer out = new SendBuffer(ChunkPool.shared(), 0);
        out.append(stream, 0, stream.length);
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel writer = SocketChannel.open(listener.getLocalAddress());
                 SocketChannel peer = listener.accept()) {
                writer.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                peer.setOption(StandardSocketOptions.SO_RCVBUF, 65536); // below a segment (64 KiB on loopback) the window opens only by the persist timer
                writer.configureBlocking(false);
                ByteArrayOutputStream received = new ByteArrayOutputStream();
                ByteBuffer readBuf = ByteBuffer.allocate(64 * 1024);
                LinkOutput o = new LinkOutput(writer);
                List<long[]> acksQueued = new ArrayList<>(); // {held value, stream offset it was queued at}
                long next = 0;
                int shortWrites = 0;
                int smallFrames = 0;
                int gathered = 0;
                for (int round = 0; round < 200_000 && (next < stream.length || o.pending()); round++) {
                    if (!o.inFrame && r.nextInt(4) == 0 && o.control().remaining() >= Message.Ack.FRAME_SIZE) {
                        long held = acksQueued.size() + 1;
                        Message.Ack.write(o.control(), held, held * 2, held);
                        acksQueued.add(new long[] {held, next});
                    }
                    long payload;
                    if (o.inFrame) {
                        payload = o.writeGathered(out, next, 0);
                    } else {
                        int left = (int) Math.min(stream.length - next, Integer.MAX_VALUE);
                        int len = left == 0 ? 0 : 1 + r.nextInt(Math.min(left, r.nextBoolean() ? 2048 : 40_000));
                        if (len == 0 && o.controlQueued() == 0) {
                            break;
                        }
                        if (len > 0 && o.fitsSmallFrame(len)) {
                            smallFrames++;
                            payload = o.writeSmallFrame(out, next, len);
                        } else {
                            gathered++;
                            payload = o.writeGathered(out, next, len);
                        }
                    }
                    next += payload;
                    assertTrue(next <= stream.length, seeds.describe() + ": payload counted beyond the stream: " + next);
                    if (!o.tookAll()) {
                        shortWrites++;
                        drainSome(peer, readBuf, received, 1 + r.nextInt(16 * 1024));
                    }
                }
                assertEquals(stream.length, next, seeds.describe() + ": every stream byte counted as written");
                assertFalse(o.pending(), seeds.describe() + ": nothing left pending");
                o.release();
                writer.shutdownOutput();
                drainSome(peer, readBuf, received, Integer.MAX_VALUE);
                assertTrue(shortWrites > 10, seeds.describe() + ": the kernel took writes in part (" + shortWrites + " times)");
                assertTrue(smallFrames > 0 && gathered > 0, seeds.describe() + ": both kinds of write ran: " + smallFrames
                        + " small frames, " + gathered + " gathering writes");
                checkWire(received.toByteArray(), stream, acksQueued);
            }
        }
    }

    /** Reads up to {@code atMost} bytes from the peer (blocking), all of them until the end for MAX_VALUE. */
    private static void drainSome(SocketChannel peer, ByteBuffer buf, ByteArrayOutputStream into, int atMost) throws IOException {
        int got = 0;
        while (got < atMost) {
            buf.clear().limit(Math.min(buf.capacity(), atMost - got));
            int n = peer.read(buf);
            if (n < 0) {
                return;
            }
            into.write(buf.array(), 0, n);
            got += n;
            if (atMost != Integer.MAX_VALUE) {
                return; // one read: whatever the kernel had, so that the writer meets a full buffer again
            }
        }
    }

    private void checkWire(byte[] wire, byte[] stream, List<long[]> acksQueued) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<long[]> acksSeen = new ArrayList<>();
        FrameReader reader = new FrameReader("the test's peer", true, Wire.MAX_CONTROL_PAYLOAD_ON_DATA);
        ByteBuffer buf = ByteBuffer.wrap(wire);
        reader.parse(buf, 0, wire.length, new FrameReader.Handler() {
            @Override
            public void onData(ByteBuffer b, int pos, int length) {
                for (int i = 0; i < length; i++) {
                    data.write(b.get(pos + i));
                }
            }

            @Override
            public void onAck(long held, long credit, long release) {
                assertEquals(held * 2, credit, seeds.describe() + ": the ACK arrived whole");
                acksSeen.add(new long[] {held, data.size()});
            }
        });
        assertTrue(reader.atFrameBoundary(), seeds.describe() + ": the wire ends at a frame boundary");
        byte[] got = data.toByteArray();
        assertEquals(stream.length, got.length, seeds.describe() + ": DATA bytes received");
        assertArrayEquals(stream, got, seeds.describe() + ": DATA bytes in order, each once");
        assertEquals(acksQueued.size(), acksSeen.size(), seeds.describe() + ": ACK frames received");
        for (int i = 0; i < acksQueued.size(); i++) {
            assertArrayEquals(acksQueued.get(i), acksSeen.get(i), seeds.describe() + ": ACK " + i
                    + " {held, DATA bytes before it}: expected " + Arrays.toString(acksQueued.get(i)) + ", received "
                    + Arrays.toString(acksSeen.get(i)));
        }
    }
}
