package org.mtcp.internal.wire;

import org.mtcp.api.MigrationException.Reason;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Every frame of the protocol except DATA, one record each, with its encoding and its decoding. A
 * message is written with {@link #writeTo} or {@link #encode} and read with {@link #decode}, which
 * {@link FrameReader} calls for every complete frame and hands to a {@link FrameReader.Handler}.
 * Nothing outside this package builds or parses a frame. Layouts (integers big-endian, offsets
 * unsigned 64-bit, addresses as family u8, 4 or 16 bytes, port u16; strings as u16 length and
 * UTF-8) are listed in {@code docs/protocol.md}.
 */
public sealed interface Message {
    /** @return the frame type ({@link Wire}) */
    int type();

    /** @return the payload's size in bytes */
    int payloadSize();

    /** Writes the payload (after the header). */
    void writePayload(ByteBuffer out);

    /** Hands this message to the handler method of its type. */
    void dispatch(FrameReader.Handler h) throws IOException;

    /** Writes the whole frame, header and payload, into {@code out}. */
    default void writeTo(ByteBuffer out) {
        int start = out.position();
        int length = payloadSize();
        Frames.frameHeader(out, type(), length);
        writePayload(out);
        if (out.position() - start != Wire.HEADER_SIZE + length) {
            throw new IllegalStateException(Wire.typeName(type()) + " wrote " + (out.position() - start - Wire.HEADER_SIZE)
                    + " payload bytes, announced " + length);
        }
    }

    /** @return the whole frame in a fresh buffer, flipped for writing */
    default ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(Wire.HEADER_SIZE + payloadSize());
        writeTo(b);
        return b.flip();
    }

    /**
     * Decodes one complete frame other than DATA.
     *
     * @param type    the frame type from its header
     * @param payload the payload, position to limit
     * @param where   the connection, for error messages
     * @throws ProtocolException when the type is unknown or the payload malformed
     */
    static Message decode(int type, ByteBuffer payload, Object where) throws ProtocolException {
        Frames.Reader r = new Frames.Reader(payload, type, where);
        Message m;
        switch (type) {
            case Wire.HELLO: m = new Hello(r.u8(), r.offset(), r.bytes(Wire.PUBLIC_KEY_SIZE)); break;
            case Wire.HELLO_ACK: m = new HelloAck(r.bytes(Wire.SESSION_ID_SIZE), r.bytes(Wire.PUBLIC_KEY_SIZE), r.offset(),
                    r.address(), r.addresses()); break;
            case Wire.MIGRATE_REQ: m = new MigrateRequest(r.bytes(Wire.SESSION_ID_SIZE), r.address(), r.address(), r.offset(),
                    r.offset(), r.u64(), r.bytes(Wire.PUBLIC_KEY_SIZE), r.bytes(Wire.PROOF_SIZE), r.u8()); break;
            case Wire.MIGRATE_ACK: m = new MigrateAck(r.offset(), r.offset(), r.offset(), r.address(), r.addresses(),
                    r.bytes(Wire.PUBLIC_KEY_SIZE), r.bytes(Wire.PROOF_SIZE)); break;
            case Wire.MIGRATE_REJECT: m = new MigrateReject(Wire.reason(r.u8()), r.u8() == 1, r.string()); break;
            case Wire.ACK: m = new Ack(r.offset(), r.offset(), r.offset()); break; // the data path reads it with Ack.dispatch
            case Wire.FIN: m = new Fin(r.offset()); break;
            case Wire.TRIGGER: m = new Trigger(r.u8() == 1 ? r.address() : null); break;
            case Wire.ERROR: m = new Error(r.string()); break;
            case Wire.MOVED: m = new Moved(); break;
            case Wire.ALTERNATES: m = new Alternates(r.addresses()); break;
            case Wire.RESET: m = new Reset(r.string()); break;
            case Wire.TRIGGER_RESULT: m = new TriggerResult(TriggerResult.outcome(r.u8(), where), Wire.reason(r.u8()),
                    r.u8() == 1 ? r.address() : null, r.string()); break;
            case Wire.SEALED: {
                long counter = r.u64();
                int inner = r.u8();
                byte[] body = r.bytes(r.remaining() - Wire.TAG_SIZE);
                m = new Sealed(counter, inner, body, r.bytes(Wire.TAG_SIZE));
                break;
            }
            case Wire.CTRL_HELLO: m = new ControlHello(r.address()); break;
            case Wire.STATE_REQUEST: m = new StateRequest(r.u64(), r.bytes(Wire.SESSION_ID_SIZE), r.offset(), r.offset(),
                    r.u64(), r.bytes(Wire.PUBLIC_KEY_SIZE), r.bytes(Wire.PROOF_SIZE), r.address(), Wire.initiation(r.u8())); break;
            case Wire.STATE_REPLY: {
                long key = r.u64();
                int at = payload.position();
                SessionState st;
                try {
                    st = StateCodec.decode(payload.slice(at, payload.limit() - at));
                } catch (ProtocolException e) {
                    throw new ProtocolException(e.getMessage() + " in STATE_REPLY on " + where);
                }
                payload.position(payload.limit());
                m = new StateReply(key, st);
                break;
            }
            case Wire.STATE_REJECT: m = new StateReject(r.u64(), Wire.reason(r.u8()), r.string()); break;
            case Wire.STATE_ACK: m = new StateAck(r.u64()); break;
            case Wire.STATE_ABORT: m = new StateAbort(r.u64()); break;
            case Wire.MOVE_REQUEST: m = new MoveRequest(r.u64(), r.bytes(Wire.SESSION_ID_SIZE), r.address()); break;
            case Wire.MOVE_RESULT: {
                long key = r.u64();
                int flags = r.u8();
                if ((flags & ~3) != 0) {
                    throw new ProtocolException("MOVE_RESULT with unknown flags " + flags + " on " + where);
                }
                m = new MoveResult(key, (flags & 1) != 0, (flags & 2) != 0, Wire.reason(r.u8()), r.u8() == 1 ? r.address() : null,
                        r.string());
                break;
            }
            default:
                throw new ProtocolException("unknown frame type " + Wire.typeName(type) + " on " + where);
        }
        r.end();
        return m;
    }

    // ================================================================== data connection

    /**
     * C to S, after {@link Wire#MAGIC}: a new session. The server may send down bytes below {@code credit};
     * {@code clientPublic} is the client's ephemeral X25519 key for the session key.
     */
    record Hello(int flags, long credit, byte[] clientPublic) implements Message {
        @Override public int type() { return Wire.HELLO; }
        @Override public int payloadSize() { return 9 + Wire.PUBLIC_KEY_SIZE; }
        @Override public void writePayload(ByteBuffer b) { b.put((byte) flags).putLong(credit).put(clientPublic); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onHello(this); }
    }

    /**
     * S to C: the new session's id, the server's ephemeral X25519 key, the client's credit, the server's
     * identity and its alternates. Both ends derive the session key from the exchange and both payloads.
     */
    record HelloAck(byte[] sessionId, byte[] serverPublic, long credit, InetSocketAddress server,
                    List<InetSocketAddress> alternates) implements Message {
        @Override public int type() { return Wire.HELLO_ACK; }
        @Override public int payloadSize() {
            return Wire.SESSION_ID_SIZE + Wire.PUBLIC_KEY_SIZE + 8 + Frames.addressSize(server) + Frames.addressesSize(alternates);
        }
        @Override public void writePayload(ByteBuffer b) {
            b.put(sessionId).put(serverPublic).putLong(credit);
            Frames.putAddress(b, server);
            Frames.putAddresses(b, alternates);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onHelloAck(this); }
    }

    /**
     * C to S2, after {@link Wire#MAGIC}: move the session here from {@code origin}. {@code destination} is
     * the server the client dialled, {@code downReceived} every down byte the client holds (plus one
     * for a FIN), {@code credit} the down credit, {@code clientPublic} the client's ephemeral X25519 key
     * for the rotated session key, and {@code proof} the HMAC under the session's proof key of all of
     * them ({@link #proofInput}). {@code initiationCode}, last, says who started the migration, for the
     * destination's migration events only: it authorizes nothing, so the proof leaves it out. It is kept as it
     * came, a code this build does not know included: the rotated key and the MIGRATE_ACK confirmation hash the
     * payload, which must re-encode to the client's bytes.
     */
    record MigrateRequest(byte[] sessionId, InetSocketAddress origin, InetSocketAddress destination, long downReceived,
                          long credit, long sequence, byte[] clientPublic, byte[] proof, int initiationCode) implements Message {
        public MigrateRequest {
            if (initiationCode < 0 || initiationCode > 0xff) {
                throw new IllegalArgumentException("an initiation code is one byte: " + initiationCode);
            }
        }

        /** A request whose initiation is not known (tests, tools). */
        public MigrateRequest(byte[] sessionId, InetSocketAddress origin, InetSocketAddress destination, long downReceived,
                              long credit, long sequence, byte[] clientPublic, byte[] proof) {
            this(sessionId, origin, destination, downReceived, credit, sequence, clientPublic, proof,
                    org.mtcp.api.MigrationEvent.Initiation.UNKNOWN);
        }

        /** A request started by {@code initiation}. */
        public MigrateRequest(byte[] sessionId, InetSocketAddress origin, InetSocketAddress destination, long downReceived,
                              long credit, long sequence, byte[] clientPublic, byte[] proof,
                              org.mtcp.api.MigrationEvent.Initiation initiation) {
            this(sessionId, origin, destination, downReceived, credit, sequence, clientPublic, proof,
                    Wire.initiationCode(initiation));
        }

        /** @return who started the migration, {@code UNKNOWN} for a code this build does not know */
        public org.mtcp.api.MigrationEvent.Initiation initiation() {
            return Wire.initiation(initiationCode);
        }
        @Override public int type() { return Wire.MIGRATE_REQ; }
        @Override public int payloadSize() {
            return Wire.SESSION_ID_SIZE + Frames.addressSize(origin) + Frames.addressSize(destination) + 24
                    + Wire.PUBLIC_KEY_SIZE + Wire.PROOF_SIZE + 1;
        }
        @Override public void writePayload(ByteBuffer b) {
            b.put(sessionId);
            Frames.putAddress(b, origin);
            Frames.putAddress(b, destination);
            b.putLong(downReceived).putLong(credit).putLong(sequence).put(clientPublic).put(proof);
            b.put((byte) initiationCode);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onMigrateRequest(this); }
    }

    /**
     * S2 to C: the session is here; the client resends up bytes from {@code upResume}, down bytes arrive
     * from {@code downResume}. {@code serverPublic} is the destination's ephemeral X25519 key for the
     * rotated session key, and {@code confirm} the HMAC under the new key's confirmation key of the
     * request's payload and every field before it: only a server that got the session's key from
     * its origin can make it.
     */
    record MigrateAck(long upResume, long downResume, long credit, InetSocketAddress server,
                      List<InetSocketAddress> alternates, byte[] serverPublic, byte[] confirm) implements Message {
        @Override public int type() { return Wire.MIGRATE_ACK; }
        @Override public int payloadSize() {
            return 24 + Frames.addressSize(server) + Frames.addressesSize(alternates) + Wire.PUBLIC_KEY_SIZE + Wire.PROOF_SIZE;
        }
        @Override public void writePayload(ByteBuffer b) {
            b.putLong(upResume).putLong(downResume).putLong(credit);
            Frames.putAddress(b, server);
            Frames.putAddresses(b, alternates);
            b.put(serverPublic).put(confirm);
        }

        /** @return the payload bytes {@link #confirm} covers: all but the confirmation itself */
        public byte[] confirmed() {
            byte[] p = payload(this);
            return java.util.Arrays.copyOf(p, p.length - Wire.PROOF_SIZE);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onMigrateAck(this); }
    }

    /** S2 to C: the migration is refused; {@code sessionAlive} says whether the session goes on at the origin. */
    record MigrateReject(Reason reason, boolean sessionAlive, String message) implements Message {
        @Override public int type() { return Wire.MIGRATE_REJECT; }
        @Override public int payloadSize() { return 2 + Frames.stringSize(message); }
        @Override public void writePayload(ByteBuffer b) {
            b.put((byte) Wire.reasonCode(reason)).put((byte) (sessionAlive ? 1 : 0));
            Frames.putString(b, message);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onMigrateReject(this); }
    }

    /**
     * Either way: the sender holds every byte of the peer's stream below {@code held}, the peer may send below
     * {@code credit}, and the peer may forget what it sent below {@code release} ({@code <= held}): a server
     * releases client bytes only as its application reads them (or with the client's FIN), so that a migration
     * carries the read log and not the bytes still unread, which the client sends the destination again. The
     * handler gets the three numbers, not a record: one arrives for every few DATA frames.
     */
    record Ack(long held, long credit, long release) implements Message {
        /** Bytes of a whole ACK frame. */
        public static final int FRAME_SIZE = Wire.HEADER_SIZE + 24;

        /** Decodes an ACK payload and hands its numbers to the handler without building a record (the data path). */
        static void dispatch(ByteBuffer payload, Object where, FrameReader.Handler h) throws IOException {
            Frames.Reader r = new Frames.Reader(payload, Wire.ACK, where);
            long held = r.offset();
            long credit = r.offset();
            long release = r.offset();
            r.end();
            h.onAck(held, credit, release);
        }

        /** Writes an ACK frame without building a record (the data path). */
        public static void write(ByteBuffer out, long held, long credit, long release) {
            Frames.frameHeader(out, Wire.ACK, 24);
            out.putLong(held).putLong(credit).putLong(release);
        }

        @Override public int type() { return Wire.ACK; }
        @Override public int payloadSize() { return 24; }
        @Override public void writePayload(ByteBuffer b) { b.putLong(held).putLong(credit).putLong(release); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onAck(held, credit, release); }
    }

    /** Either way: the sender's stream ends at offset {@code at}; the FIN counts as one offset. */
    record Fin(long at) implements Message {
        /** Bytes of a whole FIN frame. */
        public static final int FRAME_SIZE = Wire.HEADER_SIZE + 8;

        /** Writes a FIN frame without building a record. */
        public static void write(ByteBuffer out, long at) {
            Frames.frameHeader(out, Wire.FIN, 8);
            out.putLong(at);
        }

        @Override public int type() { return Wire.FIN; }
        @Override public int payloadSize() { return 8; }
        @Override public void writePayload(ByteBuffer b) { b.putLong(at); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onFin(at); }
    }

    /** S to C: please migrate, to {@code destination} or ({@code null}) to one of the client's choice. */
    record Trigger(InetSocketAddress destination) implements Message {
        @Override public int type() { return Wire.TRIGGER; }
        @Override public int payloadSize() { return destination == null ? 1 : 1 + Frames.addressSize(destination); }
        @Override public void writePayload(ByteBuffer b) {
            b.put((byte) (destination == null ? 0 : 1));
            if (destination != null) {
                Frames.putAddress(b, destination);
            }
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onTrigger(this); }
    }

    /**
     * C to S: a TRIGGER that did not move the session away, and why; {@code destination} is the one it named
     * ({@code null}: none), which tells the server which of its TRIGGERs this answers.
     */
    record TriggerResult(Outcome outcome, Reason reason, InetSocketAddress destination, String message) implements Message {
        /** What became of the TRIGGER. */
        public enum Outcome {
            /** The client would not follow it (e.g. to a server its server never advertised). */
            REFUSED,
            /** A migration was already under way; the TRIGGER was dropped for it. */
            SUPERSEDED,
            /** The client tried and the migration failed; the session goes on at this server. */
            FAILED
        }

        static Outcome outcome(int code, Object where) throws ProtocolException {
            if (code < 1 || code > Outcome.values().length) {
                throw new ProtocolException("TRIGGER_RESULT with unknown outcome " + code + " on " + where);
            }
            return Outcome.values()[code - 1];
        }

        @Override public int type() { return Wire.TRIGGER_RESULT; }
        @Override public int payloadSize() {
            return 3 + (destination == null ? 0 : Frames.addressSize(destination)) + Frames.stringSize(message);
        }
        @Override public void writePayload(ByteBuffer b) {
            b.put((byte) (outcome.ordinal() + 1)).put((byte) Wire.reasonCode(reason)).put((byte) (destination == null ? 0 : 1));
            if (destination != null) {
                Frames.putAddress(b, destination);
            }
            Frames.putString(b, message);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onTriggerResult(this); }
    }

    /** S to C: the server's alternates now; the client follows a TRIGGER only to one of them (or to the server itself). */
    record Alternates(List<InetSocketAddress> alternates) implements Message {
        @Override public int type() { return Wire.ALTERNATES; }
        @Override public int payloadSize() { return Frames.addressesSize(alternates); }
        @Override public void writePayload(ByteBuffer b) { Frames.putAddresses(b, alternates); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onAlternates(this); }
    }

    /** Either way: the sender's application reset the connection on purpose; a reset follows, and no resume. */
    record Reset(String message) implements Message {
        @Override public int type() { return Wire.RESET; }
        @Override public int payloadSize() { return Frames.stringSize(message); }
        @Override public void writePayload(ByteBuffer b) { Frames.putString(b, message); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onReset(this); }
    }

    /** Either way: a fatal error; the connection closes after it. */
    record Error(String message) implements Message {
        @Override public int type() { return Wire.ERROR; }
        @Override public int payloadSize() { return Frames.stringSize(message); }
        @Override public void writePayload(ByteBuffer b) { Frames.putString(b, message); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onError(this); }
    }

    /** C to S1 on the old connection: the session switched to another server; nothing follows. */
    record Moved() implements Message {
        /** The whole frame, for writing. */
        public static ByteBuffer frame() {
            return new Moved().encode();
        }

        @Override public int type() { return Wire.MOVED; }
        @Override public int payloadSize() { return 0; }
        @Override public void writePayload(ByteBuffer b) { }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onMoved(this); }
    }

    /**
     * Either way on a data connection: a control frame (TRIGGER, TRIGGER_RESULT, ALTERNATES, MOVED, ERROR) authenticated under the
     * session key. {@code counter} grows with every sealed frame of one direction of one connection;
     * {@code tag} is the truncated HMAC of the counter, the inner type and the inner payload under that
     * direction's control key ({@code org.mtcp.internal.crypto.ControlSeal} makes and checks it).
     */
    record Sealed(long counter, int innerType, byte[] innerPayload, byte[] tag) implements Message {
        @Override public int type() { return Wire.SEALED; }
        @Override public int payloadSize() { return 9 + innerPayload.length + Wire.TAG_SIZE; }
        @Override public void writePayload(ByteBuffer b) { b.putLong(counter).put((byte) innerType).put(innerPayload).put(tag); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onSealed(this); }

        /** @return the frame inside, decoded (call only once its tag is checked) */
        public Message inner(Object where) throws ProtocolException {
            return decode(innerType, ByteBuffer.wrap(innerPayload), where);
        }
    }

    /** @return a message's payload bytes (its encoding without the header), for transcripts and proofs */
    static byte[] payload(Message m) {
        ByteBuffer b = ByteBuffer.allocate(m.payloadSize());
        m.writePayload(b);
        return b.array();
    }

    /**
     * @return the bytes a migration proof covers: everything the client's request authorizes
     * (session, sequence, origin, destination, the client's offsets, its new public key)
     */
    static byte[] proofInput(byte[] sessionId, long sequence, InetSocketAddress origin, InetSocketAddress destination,
                             long downReceived, long credit, byte[] clientPublic) {
        ByteBuffer b = ByteBuffer.allocate(Wire.SESSION_ID_SIZE + 8 + Frames.addressSize(origin) + Frames.addressSize(destination)
                + 16 + clientPublic.length);
        b.put(sessionId).putLong(sequence);
        Frames.putAddress(b, origin);
        Frames.putAddress(b, destination);
        b.putLong(downReceived).putLong(credit).put(clientPublic);
        return b.array();
    }

    // ================================================================== control connection

    /** Opens a control connection, after {@link Wire#CONTROL_MAGIC}: the sender's service address. */
    record ControlHello(InetSocketAddress server) implements Message {
        @Override public int type() { return Wire.CTRL_HELLO; }
        @Override public int payloadSize() { return Frames.addressSize(server); }
        @Override public void writePayload(ByteBuffer b) { Frames.putAddress(b, server); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onControlHello(this); }
    }

    /**
     * S2 to S1: send me the session's state; {@code key} names the request on this connection. The
     * fields are the client's MIGRATE_REQ's, so that the origin checks its proof; {@code destination}
     * must be the peer this connection authenticated.
     */
    record StateRequest(long key, byte[] sessionId, long downReceived, long credit, long sequence, byte[] clientPublic,
                        byte[] proof, InetSocketAddress destination,
                        org.mtcp.api.MigrationEvent.Initiation initiation) implements Message {
        /** A request whose initiation is not known (tests, tools). */
        public StateRequest(long key, byte[] sessionId, long downReceived, long credit, long sequence, byte[] clientPublic,
                            byte[] proof, InetSocketAddress destination) {
            this(key, sessionId, downReceived, credit, sequence, clientPublic, proof, destination,
                    org.mtcp.api.MigrationEvent.Initiation.UNKNOWN);
        }
        @Override public int type() { return Wire.STATE_REQUEST; }
        @Override public int payloadSize() {
            return 8 + Wire.SESSION_ID_SIZE + 24 + Wire.PUBLIC_KEY_SIZE + Wire.PROOF_SIZE + Frames.addressSize(destination) + 1;
        }
        @Override public void writePayload(ByteBuffer b) {
            b.putLong(key).put(sessionId).putLong(downReceived).putLong(credit).putLong(sequence).put(clientPublic).put(proof);
            Frames.putAddress(b, destination);
            b.put((byte) Wire.initiationCode(initiation));
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onStateRequest(this); }
    }

    /** S1 to S2: the frozen session's state (a Kryo record, {@link StateCodec}). */
    record StateReply(long key, SessionState state) implements Message {
        @Override public int type() { return Wire.STATE_REPLY; }
        @Override public int payloadSize() { return 8 + StateCodec.encode(state).length; }
        @Override public void writePayload(ByteBuffer b) { b.putLong(key).put(StateCodec.encode(state)); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onStateReply(this); }

        /**
         * The frame serialized straight into one direct buffer (no intermediate array, no copy by the
         * JDK on the way to the socket): state records can be megabytes.
         *
         * @throws IllegalArgumentException when the record exceeds the largest frame (24-bit length)
         */
        @Override public ByteBuffer encode() {
            return StateCodec.encodeFrame(state, Wire.STATE_REPLY, key);
        }
    }

    /** S1 to S2: the origin refuses the request. */
    record StateReject(long key, Reason reason, String message) implements Message {
        @Override public int type() { return Wire.STATE_REJECT; }
        @Override public int payloadSize() { return 9 + Frames.stringSize(message); }
        @Override public void writePayload(ByteBuffer b) {
            b.putLong(key).put((byte) Wire.reasonCode(reason));
            Frames.putString(b, message);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onStateReject(this); }
    }

    /** S2 to S1: the destination installed the session: the commit point. */
    record StateAck(long key) implements Message {
        @Override public int type() { return Wire.STATE_ACK; }
        @Override public int payloadSize() { return 8; }
        @Override public void writePayload(ByteBuffer b) { b.putLong(key); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onStateAck(this); }
    }

    /** S2 to S1: the destination gave up; the origin resumes the session. */
    record StateAbort(long key) implements Message {
        @Override public int type() { return Wire.STATE_ABORT; }
        @Override public int payloadSize() { return 8; }
        @Override public void writePayload(ByteBuffer b) { b.putLong(key); }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onStateAbort(this); }
    }

    /** Any server to the session's holder: move session {@code sessionId} to {@code target} (a third party's trigger). */
    record MoveRequest(long key, byte[] sessionId, InetSocketAddress target) implements Message {
        @Override public int type() { return Wire.MOVE_REQUEST; }
        @Override public int payloadSize() { return 8 + Wire.SESSION_ID_SIZE + Frames.addressSize(target); }
        @Override public void writePayload(ByteBuffer b) {
            b.putLong(key).put(sessionId);
            Frames.putAddress(b, target);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onMoveRequest(this); }
    }

    /**
     * The holder to the asker: the outcome of a MOVE_REQUEST; {@code destination} is where the session went
     * (moved) or the target asked for, {@code null} when none.
     */
    record MoveResult(long key, boolean moved, boolean sessionAlive, Reason reason, InetSocketAddress destination,
                      String message) implements Message {
        @Override public int type() { return Wire.MOVE_RESULT; }
        @Override public int payloadSize() {
            return 11 + (destination == null ? 0 : Frames.addressSize(destination)) + Frames.stringSize(message);
        }
        @Override public void writePayload(ByteBuffer b) {
            b.putLong(key).put((byte) ((moved ? 1 : 0) | (sessionAlive ? 2 : 0))).put((byte) Wire.reasonCode(reason))
                    .put((byte) (destination == null ? 0 : 1));
            if (destination != null) {
                Frames.putAddress(b, destination);
            }
            Frames.putString(b, message);
        }
        @Override public void dispatch(FrameReader.Handler h) throws IOException { h.onMoveResult(this); }
    }
}
