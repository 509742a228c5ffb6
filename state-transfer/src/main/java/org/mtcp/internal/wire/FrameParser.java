package org.mtcp.internal.wire;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Incremental frame reader: fed bytes as they arrive, in any pieces, it hands complete frames to a
 * {@link Handler}. DATA payload is handed over in place (no copy), possibly in several pieces; every
 * other frame is collected and handed over whole. Lengths are checked against limits before any byte
 * of the payload is kept, and a collected payload grows only as its bytes arrive, so a malformed or
 * hostile header can neither allocate much nor make the reader wait for more than the frame it
 * announced.
 */
public final class FrameParser {

    /** Receives frames. */
    public interface Handler {
        /**
         * Some bytes of a DATA frame's payload, in place.
         *
         * @param buf    the buffer the bytes are in
         * @param pos    absolute index of the first byte
         * @param length number of bytes
         * @throws IOException to stop reading this connection
         */
        void onData(ByteBuffer buf, int pos, int length) throws IOException;

        /**
         * A complete frame other than DATA.
         *
         * @param type    the frame type
         * @param payload the payload from position 0 to its limit; valid only during the call
         * @throws IOException to stop reading this connection
         */
        void onFrame(int type, ByteBuffer payload) throws IOException;
    }

    private static final int RETAINED_PAYLOAD_CAPACITY = 4096;

    private final String connection;
    private final boolean dataAllowed;
    private final int maxFramePayload;

    /** Header bytes collected so far (a header may arrive split). */
    private final byte[] header = new byte[Wire.HEADER_SIZE];
    private int headerFill;
    private boolean inFrame;
    private int type;
    private int remaining;
    private byte[] payload = new byte[0];
    /** A reusable view of {@link #payload}, handed to the handler. */
    private ByteBuffer payloadView = ByteBuffer.wrap(payload);
    private int payloadFill;
    private int payloadLength;

    /**
     * @param connection      which connection this reads, for error messages
     * @param dataAllowed     whether DATA frames may appear (data connections) or not (control connections)
     * @param maxFramePayload the largest non-DATA payload accepted
     */
    public FrameParser(String connection, boolean dataAllowed, int maxFramePayload) {
        this.connection = connection;
        this.dataAllowed = dataAllowed;
        this.maxFramePayload = maxFramePayload;
    }

    /** @return {@code true} when no frame is partly read */
    public boolean atFrameBoundary() {
        return !inFrame && headerFill == 0;
    }

    /**
     * Reads the bytes {@code buf[from, to)} (absolute indexes; the buffer's position is not used).
     *
     * @throws ProtocolException when a header breaks the limits
     * @throws IOException       when the handler throws
     */
    public void parse(ByteBuffer buf, int from, int to, Handler handler) throws IOException {
        int p = from;
        while (p < to) {
            if (!inFrame) {
                int take = Math.min(Wire.HEADER_SIZE - headerFill, to - p);
                buf.get(p, header, headerFill, take);
                headerFill += take;
                p += take;
                if (headerFill < Wire.HEADER_SIZE) {
                    return;
                }
                headerFill = 0;
                startFrame();
                if (remaining == 0) {
                    finishFrame(handler);
                }
                continue;
            }
            int take = Math.min(remaining, to - p);
            if (type == Wire.DATA) {
                handler.onData(buf, p, take);
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
        type = header[0] & 0xff;
        int length = ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
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
        inFrame = true;
        remaining = length;
        payloadLength = length;
        payloadFill = 0;
    }

    private void collect(ByteBuffer buf, int p, int take) {
        if (payloadFill + take > payload.length) {
            int grown = Math.max(payloadFill + take, Math.min(payloadLength, Math.max(256, payload.length * 2)));
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
        if (payloadView.array() != payload) {
            payloadView = ByteBuffer.wrap(payload);
        }
        payloadView.clear().limit(payloadFill);
        try {
            handler.onFrame(type, payloadView);
        } finally {
            if (payload.length > RETAINED_PAYLOAD_CAPACITY) {
                payload = new byte[0];
            }
        }
    }
}
