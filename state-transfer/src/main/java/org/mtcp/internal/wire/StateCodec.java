package org.mtcp.internal.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.ByteBufferOutput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;

import java.nio.ByteBuffer;

/**
 * Kryo serialization of {@link SessionState}, the record that travels in a STATE_REPLY. Only this
 * class is registered, and every length is checked against the bytes actually present before
 * anything is allocated: the record comes from another machine.
 */
public final class StateCodec {
    private static final Pool<Kryo> KRYOS = new Pool<>(true, false, 8) {
        @Override
        protected Kryo create() {
            Kryo k = new Kryo();
            k.setRegistrationRequired(true);
            k.register(SessionState.class, new StateSerializer(), 40);
            return k;
        }
    };

    private StateCodec() {
    }

    /** @return the serialized record */
    public static byte[] encode(SessionState s) {
        int size = 128 + s.sessionId.length + s.key.length + s.appState.length + s.upBytes.length + s.downBytes.length;
        Kryo k = KRYOS.obtain();
        try (Output out = new Output(size, -1)) {
            k.writeObject(out, s);
            return out.toBytes();
        } finally {
            KRYOS.free(k);
        }
    }

    /**
     * Serializes a record straight into a whole frame ({@code type}, a u64 key, the record) in a
     * direct buffer, flipped for writing: no intermediate array, and no copy by the JDK on the way to
     * the socket. State records can be megabytes; every copy shows in the migration time.
     *
     * @param type the frame type
     * @param key  the request key that leads the payload
     * @return the frame
     */
    public static ByteBuffer encodeFrame(SessionState s, int type, long key) {
        int max = Wire.HEADER_SIZE + 8 + 128 + s.sessionId.length + s.key.length + s.appState.length + s.upBytes.length
                + s.downBytes.length;
        ByteBuffer frame = FrameBuffers.obtain(max);
        frame.position(Wire.HEADER_SIZE).putLong(key);
        Kryo k = KRYOS.obtain();
        int recordLength;
        try (ByteBufferOutput out = new ByteBufferOutput(frame.slice(), max)) {
            k.writeObject(out, s);
            recordLength = out.position();
        } finally {
            KRYOS.free(k);
        }
        frame.position(0);
        Frames.frameHeader(frame, type, 8 + recordLength);
        return frame.position(0).limit(Wire.HEADER_SIZE + 8 + recordLength);
    }

    /**
     * Gives a frame made by {@link #encodeFrame} back once every byte of it is written; the next
     * frame may reuse it. The caller must not touch it afterwards.
     *
     * @param frame the frame, fully written
     */
    public static void releaseFrame(ByteBuffer frame) {
        FrameBuffers.release(frame);
    }

    /**
     * @param data   serialized bytes
     * @param offset where the record starts
     * @param length its length
     * @return the record
     * @throws ProtocolException when the bytes are not a valid record
     */
    public static SessionState decode(byte[] data, int offset, int length) throws ProtocolException {
        return read(new Input(data, offset, length), offset + length);
    }

    /**
     * @param record the serialized bytes, position to limit (a direct buffer: read without a copy of
     *               the whole record); its position is left alone
     * @return the record
     * @throws ProtocolException when the bytes are not a valid record
     */
    public static SessionState decode(ByteBuffer record) throws ProtocolException {
        if (record.hasArray()) {
            return decode(record.array(), record.arrayOffset() + record.position(), record.remaining());
        }
        return read(new ByteBufferInput(record.slice()), record.remaining());
    }

    /** Reads one record from {@code input}, which must end exactly at {@code end}. */
    private static SessionState read(Input input, int end) throws ProtocolException {
        Kryo k = KRYOS.obtain();
        try (Input in = input) {
            SessionState s = k.readObject(in, SessionState.class);
            if (in.position() != end) {
                throw new ProtocolException("session state record has " + (end - in.position()) + " trailing bytes");
            }
            return s;
        } catch (KryoException | IllegalArgumentException e) {
            throw new ProtocolException("malformed session state record: " + e.getMessage());
        } finally {
            KRYOS.free(k);
        }
    }

    private static final class StateSerializer extends Serializer<SessionState> {
        @Override
        public void write(Kryo kryo, Output out, SessionState s) {
            out.writeVarInt(SessionState.VERSION, true);
            bytes(out, s.sessionId);
            bytes(out, s.key);
            out.writeVarLong(s.migrationSeq, true);
            out.writeVarInt(s.migrations, true);
            bytes(out, s.appState);
            out.writeVarLong(s.upSnap, true);
            out.writeVarLong(s.upResume, true);
            bytes(out, s.upBytes);
            out.writeBoolean(s.upFin);
            out.writeVarLong(s.downSnap, true);
            out.writeVarLong(s.downSeen, true);
            bytes(out, s.downBytes);
            out.writeBoolean(s.downFinAtSnap);
            out.writeVarLong(s.downSentLimit, true);
        }

        @Override
        public SessionState read(Kryo kryo, Input in, Class<? extends SessionState> type) {
            int version = in.readVarInt(true);
            if (version != SessionState.VERSION) {
                throw new KryoException("unknown session state version " + version);
            }
            SessionState s = new SessionState();
            s.sessionId = bytes(in);
            s.key = bytes(in);
            s.migrationSeq = in.readVarLong(true);
            s.migrations = in.readVarInt(true);
            s.appState = bytes(in);
            s.upSnap = in.readVarLong(true);
            s.upResume = in.readVarLong(true);
            s.upBytes = bytes(in);
            s.upFin = in.readBoolean();
            s.downSnap = in.readVarLong(true);
            s.downSeen = in.readVarLong(true);
            s.downBytes = bytes(in);
            s.downFinAtSnap = in.readBoolean();
            s.downSentLimit = in.readVarLong(true);
            check(s);
            return s;
        }

        private static void check(SessionState s) {
            if (s.sessionId.length != 16) {
                throw new KryoException("session id of " + s.sessionId.length + " bytes");
            }
            if (s.key.length != 32) {
                throw new KryoException("session key of " + s.key.length + " bytes");
            }
            if (s.upSnap < 0 || s.downSnap < 0 || s.downSeen < 0 || s.migrationSeq < 0 || s.migrations < 0) {
                throw new KryoException("negative offset or counter");
            }
            long upEnd = s.upSnap + s.upBytes.length;
            if (s.upResume != upEnd + (s.upFin ? 1 : 0)) {
                throw new KryoException("up resume offset " + s.upResume + " does not follow the up bytes ending at " + upEnd);
            }
            if (s.downBytes.length > 0 && s.downSeen + s.downBytes.length != s.downSnap) {
                throw new KryoException("down bytes do not span [downSeen, downSnap)");
            }
            if (s.downSentLimit < s.downSeen) {
                throw new KryoException("down sent limit " + s.downSentLimit + " below what the client has (" + s.downSeen + ")");
            }
            if (s.downBytes.length == 0 && s.downSeen < s.downSnap) {
                // the client lacks [downSeen, downSnap) and nobody would send it: the stream would have a hole
                throw new KryoException("no down bytes for [" + s.downSeen + ", " + s.downSnap + "), which the client lacks");
            }
        }

        private static void bytes(Output out, byte[] b) {
            out.writeVarInt(b.length, true);
            out.writeBytes(b);
        }

        private static byte[] bytes(Input in) {
            int n = in.readVarInt(true);
            if (n < 0 || n > in.limit() - in.position()) {
                throw new KryoException("byte array of " + n + " bytes with " + (in.limit() - in.position()) + " left");
            }
            return in.readBytes(n);
        }
    }
}
