package org.mtcp.internal.session;

import org.mtcp.internal.buffer.SendBuffer;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outgoing side of one {@link Link}: its pending control frames, the DATA frame being written, and the
 * non-blocking writes that put them on the connection. It knows frames and partial writes, not the protocol:
 * {@link LinkEngine#flushLocked} decides what goes (acknowledgements, DATA within the peer's credit, the FIN) and
 * counts what went. Every field is guarded by the owning session's lock.
 */
final class LinkOutput {
    private static final int CONTROL_OUT_SIZE = 2048;
    /** Output buffers no link holds, for the next link that writes: bounded, the rest is left to the collector. */
    private static final ConcurrentLinkedQueue<Buffers> SPARE = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger SPARES = new AtomicInteger();
    private static final int MAX_SPARES = 1024;
    /**
     * The output buffers this thread gave back last: a thread that writes again takes them back without touching
     * the shared list (a writer of small chunks flushes, and so gives back and takes, on every write).
     */
    private static final ThreadLocal<Buffers> LAST_RELEASED = new ThreadLocal<>();

    private final SocketChannel channel;
    /**
     * The output buffers while something is being written, {@code null} when everything was: an idle session
     * holds none (2 KiB of direct memory each, the largest part of an idle session's cost); they come from and go
     * back to {@link #SPARE}.
     */
    private Buffers buffers;
    /** A DATA frame is partly written; control frames must wait until it ends. */
    boolean inFrame;
    /** Stream offset where the DATA frame being written ends. */
    long frameEnd;
    /** The last write put at least one byte into the kernel. */
    private boolean lastWroteAny;
    /** The last write left bytes the kernel would not take. */
    private boolean lastShort;

    LinkOutput(SocketChannel channel) {
        this.channel = channel;
    }

    /**
     * A link's output buffers: pending control frames (write mode), the DATA frame header being written (read mode),
     * and the array of a gathering write (all null between writes). Held only while the link has something to write.
     */
    private static final class Buffers {
        final ByteBuffer control;
        final ByteBuffer dataHeader;
        final ByteBuffer[] gather = new ByteBuffer[24];

        Buffers() {
            ByteBuffer both = ByteBuffer.allocateDirect(CONTROL_OUT_SIZE + 16);
            control = both.slice(0, CONTROL_OUT_SIZE);
            dataHeader = both.slice(CONTROL_OUT_SIZE, 16).flip();
        }
    }

    private Buffers buffers() {
        Buffers b = buffers;
        if (b == null) {
            b = LAST_RELEASED.get();
            if (b != null) {
                LAST_RELEASED.set(null);
                buffers = b;
                return b;
            }
            b = SPARE.poll();
            if (b != null) {
                SPARES.decrementAndGet();
            } else {
                b = new Buffers();
            }
            buffers = b;
        }
        return b;
    }

    /** @return the pending control frames, in write mode (taken from the spares if the link holds none) */
    ByteBuffer control() {
        return buffers().control;
    }

    /** @return bytes of control frames waiting to be written */
    int controlQueued() {
        Buffers b = buffers;
        return b == null ? 0 : b.control.position();
    }

    /** @return whether anything is pending: control frames, or the rest of a DATA frame */
    boolean pending() {
        return inFrame || controlQueued() > 0;
    }

    /** Everything was written: the output buffers go back to the spares until the next write. */
    void release() {
        Buffers b = buffers;
        if (b == null || inFrame || b.control.position() > 0) {
            return;
        }
        buffers = null;
        b.dataHeader.clear().flip();
        if (LAST_RELEASED.get() == null) {
            LAST_RELEASED.set(b);
        } else if (SPARES.incrementAndGet() <= MAX_SPARES) {
            SPARE.add(b);
        } else {
            SPARES.decrementAndGet();
        }
    }

    /** @return whether the last write put at least one byte into the kernel */
    boolean wroteAny() {
        return lastWroteAny;
    }

    /** @return whether the kernel took everything the last write offered */
    boolean tookAll() {
        return !lastShort;
    }

    /** @return whether a new DATA frame of {@code len} bytes fits behind the pending control frames, header included */
    boolean fitsSmallFrame(int len) {
        return len <= control().remaining() - Wire.HEADER_SIZE;
    }

    /**
     * Writes the pending control frames and one new DATA frame of {@code len} bytes ({@link #fitsSmallFrame}) from
     * {@code from} in one plain {@code write}, the payload copied behind the control frames: a gathering write costs
     * the kernel more per buffer than copying a small payload costs here (1 KiB writes, one CPU: a quarter more time
     * in the system call). What is not written stays pending as in a gathering write: unwritten control bytes, or
     * the rest of the frame (its header's rest in the data header buffer). Not in a frame.
     *
     * @return the payload bytes written
     * @throws IOException from the channel; nothing is pending then (the link is lost)
     */
    long writeSmallFrame(SendBuffer out, long from, int len) throws IOException {
        ByteBuffer buf = control();
        int control = buf.position();
        int frameStart = control + Wire.HEADER_SIZE;
        try {
            Frames.dataHeader(buf, len);
            out.copyTo(from, from + len, buf);
        } catch (RuntimeException e) {
            buf.position(control); // only whole control frames may stay queued
            throw e;
        }
        buf.flip();
        int total = buf.remaining();
        int written;
        try {
            written = channel.write(buf);
        } catch (IOException e) {
            buf.clear();
            throw e;
        }
        if (written < control) {
            buf.limit(control).compact(); // the frame never started: the rest of the control bytes go first next time
        } else {
            if (written < frameStart) {
                ByteBuffer header = buffers.dataHeader.clear();
                header.put(buf.limit(frameStart)).flip(); // the rest of the header goes first next time
            }
            if (written < total) {
                inFrame = true;
                frameEnd = from + len;
            }
            buf.clear();
        }
        lastWroteAny = written > 0;
        lastShort = written < total;
        return Math.max(0, written - frameStart);
    }

    /**
     * One gathering write: the rest of the DATA frame being written (its header's rest and payload up to
     * {@link #frameEnd}); or, not in a frame, the pending control frames and, when {@code len > 0}, a new DATA frame
     * of {@code len} bytes from {@code from}, header and payload together. Something must be pending or {@code len > 0}.
     *
     * @param from the stream offset of the next payload byte to write
     * @return the payload bytes written
     * @throws IOException from the channel; nothing is pending then (the link is lost)
     */
    long writeGathered(SendBuffer out, long from, int len) throws IOException {
        Buffers b = buffers();
        ByteBuffer[] iov = b.gather;
        ByteBuffer header = b.dataHeader;
        int n = 0;
        boolean controlFlipped = false;
        int controlBefore = 0;
        long newFrameEnd = -1;
        if (inFrame) {
            if (header.hasRemaining()) {
                iov[n++] = header;
            }
            n = out.gather(from, frameEnd, iov, n);
        } else {
            if (b.control.position() > 0) {
                b.control.flip();
                controlFlipped = true;
                controlBefore = b.control.remaining();
                iov[n++] = b.control;
            }
            if (len > 0) {
                header.clear();
                Frames.dataHeader(header, len);
                header.flip();
                iov[n++] = header;
                newFrameEnd = from + len;
                n = out.gather(from, newFrameEnd, iov, n);
            }
        }
        long total = 0;
        for (int i = 0; i < n; i++) {
            total += iov[i].remaining();
        }
        int headerBefore = header.remaining();
        long written;
        try {
            written = channel.write(iov, 0, n);
        } catch (IOException e) {
            if (controlFlipped) {
                b.control.clear();
            }
            throw e;
        } finally {
            for (int i = 0; i < n; i++) {
                iov[i] = null;
            }
        }
        long payload = written;
        if (controlFlipped) {
            payload -= controlBefore - b.control.remaining();
            b.control.compact();
        }
        payload -= headerBefore - header.remaining();
        if (newFrameEnd >= 0 && headerBefore != header.remaining()) {
            inFrame = true;
            frameEnd = newFrameEnd;
        } else if (newFrameEnd >= 0) {
            header.clear().flip(); // the frame never started: the control bytes did not all go
        }
        if (inFrame && from + payload == frameEnd && !header.hasRemaining()) {
            inFrame = false;
        }
        lastWroteAny = written > 0;
        lastShort = written < total;
        return payload;
    }

    /** @return a short description for a session's state dump */
    String describe() {
        return (inFrame ? "in-frame to " + frameEnd + " " : "") + "ctrl " + controlQueued();
    }
}
