package org.mtcp.samples.http;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * The per-connection state of the web server, the thesis's {@code state.fname} and
 * {@code state.off} (section 6.1.2, figure 6.1) plus what a keep-alive connection needs: where in
 * the request stream the connection is, and how many requests it has served.
 *
 * <p>Each value describes exactly what the application has read from and written to its socket
 * when it is exported, so a copy of the application resuming from it re-reads (from the library's
 * read log) and writes again exactly what the first copy did after it:
 * <ul>
 *   <li>{@link Phase#AWAITING_REQUEST}: every earlier response is written; no byte of the next
 *       request is consumed.</li>
 *   <li>{@link Phase#RESPONSE_READY}: the request is consumed and its response {@linkplain #plan()
 *       planned}; nothing of the response is written.</li>
 *   <li>{@link Phase#SENDING_BODY}: the head is written, and the file bytes before {@link #offset()}.</li>
 * </ul>
 *
 * @param phase          where the connection is in its request/response cycle
 * @param requestsServed responses completed on this connection before the current one
 * @param plan           the response under way, {@code null} while awaiting a request
 * @param offset         next file byte to send (the thesis's {@code state.off}); meaningful while sending
 */
record HttpState(Phase phase, int requestsServed, ResponsePlan plan, long offset) {

    /** Where a connection is in its request/response cycle. */
    enum Phase {
        /** Between requests: the next thing to do is read a request. */
        AWAITING_REQUEST,
        /** A request is consumed and planned; its response is not written yet. */
        RESPONSE_READY,
        /** The head is written; file bytes are being sent. */
        SENDING_BODY
    }

    private static final int FORMAT = 1;

    HttpState {
        Objects.requireNonNull(phase, "phase");
        if ((plan == null) != (phase == Phase.AWAITING_REQUEST)) {
            throw new IllegalArgumentException(phase + " with plan " + plan);
        }
        if (phase == Phase.SENDING_BODY && (offset < plan.start() || offset > plan.end())) {
            throw new IllegalArgumentException("offset " + offset + " outside " + plan.start() + "-" + plan.end());
        }
    }

    /**
     * @param requestsServed responses completed so far
     * @return the state of a connection waiting for its next request
     */
    static HttpState awaiting(int requestsServed) {
        return new HttpState(Phase.AWAITING_REQUEST, requestsServed, null, 0);
    }

    /**
     * @param next the planned response of the request just consumed
     * @return this connection with a request consumed and nothing of its response written
     */
    HttpState ready(ResponsePlan next) {
        return new HttpState(Phase.RESPONSE_READY, requestsServed, next, next.start());
    }

    /**
     * @param sentUpTo next file byte to send
     * @return this connection with the head written and the file bytes before {@code sentUpTo}
     */
    HttpState sending(long sentUpTo) {
        return new HttpState(Phase.SENDING_BODY, requestsServed, plan, sentUpTo);
    }

    /** @return this connection with the current response complete, waiting for the next request */
    HttpState completed() {
        return awaiting(requestsServed + 1);
    }

    /** @return the snapshot to export (compact, about 60 bytes plus the file name) */
    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeByte(phase.ordinal());
            out.writeInt(requestsServed);
            if (plan != null) {
                out.writeShort(plan.status());
                out.writeUTF(plan.file());
                out.writeLong(plan.start());
                out.writeLong(plan.end());
                out.writeLong(plan.fileLength());
                out.writeLong(plan.lastModifiedMillis());
                out.writeLong(plan.dateSeconds());
                out.writeBoolean(plan.headOnly());
                out.writeByte(plan.connection().ordinal());
                out.writeLong(offset);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not on a byte array
        }
        return bytes.toByteArray();
    }

    /**
     * @param snapshot what {@code APP_STATE} returned: a snapshot, or an empty array for a new connection
     * @return the state it describes; a new connection awaits its first request
     * @throws IOException when the snapshot is not one of this server's
     */
    static HttpState decode(byte[] snapshot) throws IOException {
        if (snapshot == null || snapshot.length == 0) {
            return awaiting(0);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            int format = in.readUnsignedByte();
            if (format != FORMAT) {
                throw new IOException("unknown state format " + format);
            }
            Phase phase = Phase.values()[in.readUnsignedByte()];
            int served = in.readInt();
            if (phase == Phase.AWAITING_REQUEST) {
                return awaiting(served);
            }
            ResponsePlan plan = new ResponsePlan(in.readShort(), in.readUTF(), in.readLong(), in.readLong(), in.readLong(),
                    in.readLong(), in.readLong(), in.readBoolean(), ResponsePlan.Connection.values()[in.readUnsignedByte()]);
            return new HttpState(phase, served, plan, in.readLong());
        } catch (RuntimeException e) {
            throw new IOException("corrupt state snapshot", e);
        }
    }
}
