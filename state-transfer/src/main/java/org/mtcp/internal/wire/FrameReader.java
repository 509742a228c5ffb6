package org.mtcp.internal.wire;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Incremental frame reader: fed bytes as they arrive, in any pieces, it decodes complete frames and
 * hands each to the {@link Handler} method of its type. DATA payload is handed over in place (no
 * copy), possibly in several pieces; every other frame is collected, decoded by {@link Message#decode}
 * and handed over whole. Lengths are checked against limits before any byte of the payload is kept,
 * and a collected payload grows only as its bytes arrive, so a malformed or hostile header can
 * neither allocate much nor make the reader wait for more than the frame it announced.
 */
public final class FrameReader {

    /**
     * Receives decoded frames. Every method but {@link #onData} has a default that refuses the frame
     * as unexpected on this connection: a handler implements the frames its connection carries.
     */
    public interface Handler {
        /**
         * Some bytes of a DATA frame's payload, in place.
         *
         * @param buf    the buffer the bytes are in
         * @param pos    absolute index of the first byte
         * @param length number of bytes
         * @throws IOException to stop reading this connection
         */
        default void onData(ByteBuffer buf, int pos, int length) throws IOException {
            throw new UnexpectedFrame(Wire.DATA);
        }

        /**
         * ACK: the peer holds every byte below {@code held}; this end may send below {@code credit} and may forget
         * what it sent below {@code release}.
         */
        default void onAck(long held, long credit, long release) throws IOException {
            throw new UnexpectedFrame(Wire.ACK);
        }

        /** FIN: the peer's stream ends at {@code at}. */
        default void onFin(long at) throws IOException {
            throw new UnexpectedFrame(Wire.FIN);
        }

        /** HELLO. */
        default void onHello(Message.Hello m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** HELLO_ACK. */
        default void onHelloAck(Message.HelloAck m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** MIGRATE_REQ. */
        default void onMigrateRequest(Message.MigrateRequest m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** MIGRATE_ACK. */
        default void onMigrateAck(Message.MigrateAck m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** MIGRATE_REJECT. */
        default void onMigrateReject(Message.MigrateReject m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** TRIGGER. */
        default void onTrigger(Message.Trigger m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** ALTERNATES. */
        default void onAlternates(Message.Alternates m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** RESET. */
        default void onReset(Message.Reset m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** TRIGGER_RESULT. */
        default void onTriggerResult(Message.TriggerResult m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** ERROR. */
        default void onError(Message.Error m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** MOVED. */
        default void onMoved(Message.Moved m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** SEALED: an authenticated control frame, opened by the receiver with its key. */
        default void onSealed(Message.Sealed m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** CTRL_HELLO. */
        default void onControlHello(Message.ControlHello m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** STATE_REQUEST. */
        default void onStateRequest(Message.StateRequest m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** STATE_REPLY. */
        default void onStateReply(Message.StateReply m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** STATE_REJECT. */
        default void onStateReject(Message.StateReject m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** STATE_ACK. */
        default void onStateAck(Message.StateAck m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** MOVE_REQUEST. */
        default void onMoveRequest(Message.MoveRequest m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** MOVE_RESULT. */
        default void onMoveResult(Message.MoveResult m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }

        /** STATE_ABORT. */
        default void onStateAbort(Message.StateAbort m) throws IOException {
            throw new UnexpectedFrame(m.type());
        }
    }

    /** A frame of a known type that the connection does not carry; the reader names the connection. */
    static final class UnexpectedFrame extends ProtocolException {
        private static final long serialVersionUID = 1L;
        final int type;

        UnexpectedFrame(int type) {
            super("unexpected " + Wire.typeName(type) + " frame");
            this.type = type;
        }
    }

    private static final int RETAINED_PAYLOAD_CAPACITY = 4096;
    /** From this length on, a payload allocated whole goes into a kept direct buffer ({@link FrameBuffers}). */
    private static final int DIRECT_PAYLOAD_MIN = 64 * 1024;
    private static final byte[] NO_PAYLOAD = new byte[0];

    /** Which connection this reads, for error messages ({@code toString} is called only for one). */
    private final Object connection;
    private final boolean dataAllowed;
    /** The largest non-DATA payload accepted now; raised once a control peer has introduced itself. */
    private int maxFramePayload;
    /** Collect a payload into one array of its announced length, not into doubling ones. */
    private boolean allocateWhole;

    /** Header bytes collected so far, big-endian in the low bytes (a header may arrive split). */
    private int header;
    private int headerFill;
    private boolean inFrame;
    private int type;
    private int remaining;
    private byte[] payload = NO_PAYLOAD;
    /** A reusable view of {@link #payload}, handed to the decoder; {@code null} until needed. */
    private ByteBuffer payloadView;
    private int payloadFill;
    private int payloadLength;
    /**
     * The current frame's payload when it is big and allocated whole (else {@code null}): bytes
     * {@code [0, payloadFill)} arrived; the connection may read the rest into it ({@link #payloadSink}).
     */
    private ByteBuffer directPayload;

    /**
     * @param connection      which connection this reads, for error messages
     * @param dataAllowed     whether DATA frames may appear (data connections) or not (control connections)
     * @param maxFramePayload the largest non-DATA payload accepted
     */
    public FrameReader(Object connection, boolean dataAllowed, int maxFramePayload) {
        this.connection = connection;
        this.dataAllowed = dataAllowed;
        this.maxFramePayload = maxFramePayload;
    }

    /**
     * Sets the largest non-DATA payload accepted from the next header on (a control connection
     * accepts only small frames until its peer has said who it is).
     */
    public void limitPayload(int maxFramePayload) {
        this.maxFramePayload = maxFramePayload;
    }

    /**
     * From the next frame on, collects a payload into one array of the length its header announced
     * (from 64 KiB on, a kept direct buffer taken at the header), instead of growing an array as its
     * bytes arrive. For a peer
     * that has proven who it is: a state of megabytes then costs one copy here, not two and the
     * zeroing of twice its size; an unknown peer could make the reader allocate the limit per header.
     */
    public void allocateWholePayloads() {
        this.allocateWhole = true;
    }

    /**
     * Lets the payload array and its view go when no frame is partly read: the connection went quiet (an idle
     * session's bytes count); the next control frame makes them again.
     */
    public void releaseIdle() {
        if (!inFrame) {
            payload = NO_PAYLOAD;
            payloadView = null;
        }
    }

    /** @return {@code true} when no frame is partly read */
    public boolean atFrameBoundary() {
        return !inFrame && headerFill == 0;
    }

    /**
     * Reads the bytes {@code buf[from, to)} (absolute indexes; the buffer's position is not used).
     *
     * @throws ProtocolException when a header breaks the limits, a payload is malformed, or a frame
     *                           is one this connection does not carry
     * @throws IOException       when the handler throws
     */
    public void parse(ByteBuffer buf, int from, int to, Handler handler) throws IOException {
        int p = from;
        while (p < to) {
            if (!inFrame) {
                if (headerFill == 0 && to - p >= Wire.HEADER_SIZE) {
                    header = buf.getInt(p); // the whole header at once, the usual case
                    p += Wire.HEADER_SIZE;
                } else {
                    while (headerFill < Wire.HEADER_SIZE && p < to) {
                        header = (header << 8) | (buf.get(p++) & 0xff);
                        headerFill++;
                    }
                    if (headerFill < Wire.HEADER_SIZE) {
                        return;
                    }
                    headerFill = 0;
                }
                startFrame();
                if (remaining == 0) {
                    finishFrame(handler);
                }
                continue;
            }
            int take = Math.min(remaining, to - p);
            if (type == Wire.DATA) {
                try {
                    handler.onData(buf, p, take);
                } catch (UnexpectedFrame e) {
                    throw unexpected(e);
                }
            } else {
                collect(buf, p, take);
            }
            p += take;
            remaining -= take;
            if (remaining == 0) {
                finishFrame(handler);
            }
        }
    }

    private void startFrame() throws ProtocolException {
        type = Frames.headerType(header);
        int length = Frames.headerLength(header);
        checkLength(type, length, dataAllowed, maxFramePayload, connection);
        inFrame = true;
        remaining = length;
        payloadLength = length;
        payloadFill = 0;
        if (allocateWhole && type != Wire.DATA && length >= DIRECT_PAYLOAD_MIN) {
            directPayload = FrameBuffers.obtain(length);
        }
    }

    /**
     * The buffer to read the rest of the current frame's payload into, straight from the channel (a
     * state of megabytes then skips the copy out of the connection's read buffer); after a read into
     * it, call {@link #sinkFilled}.
     *
     * @return the payload buffer, its position at the first missing byte and its limit at the payload's
     *         end; {@code null} when no big payload is being collected
     */
    public ByteBuffer payloadSink() {
        if (directPayload == null) {
            return null;
        }
        return directPayload.limit(payloadLength).position(payloadFill);
    }

    /**
     * Takes the bytes a read put into {@link #payloadSink}: up to its position now. Decodes the frame
     * when they complete it.
     *
     * @throws IOException as {@link #parse}
     */
    public void sinkFilled(Handler handler) throws IOException {
        int n = directPayload.position() - payloadFill;
        payloadFill += n;
        remaining -= n;
        if (remaining == 0) {
            finishFrame(handler);
        }
    }

    /**
     * Checks a header's length against a connection's limits before any payload is read.
     *
     * @throws ProtocolException naming the frame and the connection when it breaks them
     */
    static void checkLength(int type, int length, boolean dataAllowed, int maxFramePayload, Object connection)
            throws ProtocolException {
        if (type == Wire.DATA) {
            if (!dataAllowed) {
                throw new ProtocolException("DATA frame on " + connection + ", which carries no data");
            }
            if (length > Wire.MAX_DATA_PAYLOAD_ACCEPTED) {
                throw new ProtocolException("DATA frame of " + length + " bytes on " + connection
                        + " exceeds the limit of " + Wire.MAX_DATA_PAYLOAD_ACCEPTED);
            }
        } else if (length > maxFramePayload) {
            throw new ProtocolException(Wire.typeName(type) + " frame of " + length + " bytes on " + connection
                    + " exceeds the limit of " + maxFramePayload);
        }
    }

    private void collect(ByteBuffer buf, int p, int take) {
        if (directPayload != null) {
            directPayload.put(payloadFill, buf, p, take);
            payloadFill += take;
            return;
        }
        if (payloadFill + take > payload.length) {
            int grown = allocateWhole ? payloadLength
                    : Math.max(payloadFill + take, Math.min(payloadLength, Math.max(256, payload.length * 2)));
            byte[] bigger = new byte[grown];
            System.arraycopy(payload, 0, bigger, 0, payloadFill);
            payload = bigger;
        }
        buf.get(p, payload, payloadFill, take);
        payloadFill += take;
    }

    private void finishFrame(Handler handler) throws IOException {
        inFrame = false;
        if (type == Wire.DATA) {
            return;
        }
        ByteBuffer view;
        if (directPayload != null) {
            view = directPayload.position(0).limit(payloadFill);
        } else {
            if (payloadView == null || payloadView.array() != payload) {
                payloadView = ByteBuffer.wrap(payload);
            }
            view = payloadView.clear().limit(payloadFill);
        }
        try {
            if (type == Wire.ACK) {
                Message.Ack.dispatch(view, connection, handler); // every few DATA frames: no record
            } else {
                Message.decode(type, view, connection).dispatch(handler); // the decoders copy what they keep
            }
        } catch (UnexpectedFrame e) {
            throw unexpected(e);
        } finally {
            if (directPayload != null) {
                FrameBuffers.release(directPayload);
                directPayload = null;
            }
            if (payload.length > RETAINED_PAYLOAD_CAPACITY) {
                payload = NO_PAYLOAD;
            }
        }
    }

    private ProtocolException unexpected(UnexpectedFrame e) {
        return new ProtocolException("unexpected " + Wire.typeName(e.type) + " frame on " + connection);
    }

    /**
     * Decodes one whole frame read by a caller that reads frames one at a time (handshakes): the
     * header, checked against the limit, then exactly the payload it announces.
     *
     * @param header     the four header bytes as a big-endian word
     * @param maxPayload the largest payload accepted
     * @param where      the connection, for error messages
     * @return the payload length to read before calling {@link Message#decode}
     * @throws ProtocolException when the length breaks the limit, or the frame is DATA
     */
    public static int payloadLength(int header, int maxPayload, Object where) throws ProtocolException {
        int length = Frames.headerLength(header);
        checkLength(Frames.headerType(header), length, false, maxPayload, where);
        return length;
    }

    /**
     * Decodes a buffer that holds one whole frame other than DATA and nothing else (the first frame
     * of a connection, read before anything else may be sent).
     *
     * @param b          the bytes read so far, position to limit
     * @param maxPayload the largest payload accepted
     * @param where      the connection, for error messages
     * @return the message, or {@code null} when more bytes are needed
     * @throws ProtocolException when the frame breaks the limit, is malformed, or bytes follow it
     */
    public static Message decodeOne(ByteBuffer b, int maxPayload, Object where) throws ProtocolException {
        if (b.remaining() < Wire.HEADER_SIZE) {
            return null;
        }
        int header = b.getInt(b.position());
        int length = payloadLength(header, maxPayload, where);
        int extra = b.remaining() - Wire.HEADER_SIZE - length;
        if (extra < 0) {
            return null;
        }
        if (extra > 0) {
            throw new ProtocolException(extra + " bytes after the first frame from " + where + ", before its answer");
        }
        ByteBuffer payload = b.slice(b.position() + Wire.HEADER_SIZE, length);
        return Message.decode(Frames.headerType(header), payload, where);
    }
}
