package org.mtcp.internal.wire;

import org.mtcp.api.MigrationException;

/**
 * Constants of the MTCP wire format, shared by the data connection (client to server) and the
 * control connection (server to server).
 *
 * <p>Every frame has a four-byte header followed by its payload; integers are big-endian:
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------+-----------------------------------------------+
 * |   type (8)    |              payload length (24)              |
 * +---------------+-----------------------------------------------+
 * |                     payload (length bytes)                    |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <p>A data connection opens with the eight-byte {@link #MAGIC} sent by the client, then one
 * {@link #HELLO} (a new session) or {@link #MIGRATE_REQ} (a session arriving by migration). A server
 * that sees anything else serves the connection as plain TCP. A control connection opens with
 * {@link #CONTROL_MAGIC} and a {@link #CTRL_HELLO}. Each frame's payload is one {@link Message}
 * record (DATA excepted: its payload is stream bytes); see {@code docs/protocol.md} for every layout.
 */
public final class Wire {
    private Wire() {
    }

    /** Opens every MTCP data connection. The first byte is one that text protocols and TLS never start with. */
    public static final byte[] MAGIC = {(byte) 0xB7, 'M', 'T', 'C', 'P', '\r', '\n', 2};
    /** Opens every control connection between two servers. */
    public static final byte[] CONTROL_MAGIC = {(byte) 0xB7, 'M', 'T', 'C', 'C', '\r', '\n', 2};

    /** Bytes in a frame header. */
    public static final int HEADER_SIZE = 4;
    /** Largest payload the 24-bit length can carry. */
    public static final int MAX_LENGTH = (1 << 24) - 1;
    /** Largest DATA payload a writer sends in one frame. */
    public static final int MAX_DATA_PAYLOAD = 256 * 1024;
    /** Largest DATA payload a reader accepts. */
    public static final int MAX_DATA_PAYLOAD_ACCEPTED = 1024 * 1024;
    /** Largest non-DATA payload accepted on a data connection. */
    public static final int MAX_CONTROL_PAYLOAD_ON_DATA = 16 * 1024;
    /** Largest payload accepted on a control connection (a state reply). */
    public static final int MAX_CONTROL_CONNECTION_PAYLOAD = MAX_LENGTH;
    /** Most alternate servers a handshake may advertise. */
    public static final int MAX_ALTERNATES = 64;
    /** Bytes in a session identifier. */
    public static final int SESSION_ID_SIZE = 16;
    /** Bytes in an X25519 public key. */
    public static final int PUBLIC_KEY_SIZE = 32;
    /** Bytes in a migration proof and a MIGRATE_ACK confirmation (HMAC-SHA256). */
    public static final int PROOF_SIZE = 32;
    /** Bytes in the tag of a {@link #SEALED} frame. */
    public static final int TAG_SIZE = 16;

    // ---- data connection frames ----
    /** C to S: a new session. Payload: flags (u8), credit (u64: the server may send down bytes below it), client's X25519 key (32). */
    public static final int HELLO = 0x01;
    /** S to C: session id (16), server's X25519 key (32), credit (u64), server identity (address), alternates (u16 count, addresses). */
    public static final int HELLO_ACK = 0x02;
    /**
     * C to S2: session id (16), origin (address), destination (address), down received (u64), credit (u64),
     * sequence (u64), client's X25519 key (32), proof (32), initiation (u8, reported only; kept as it came).
     */
    public static final int MIGRATE_REQ = 0x03;
    /**
     * S2 to C: up resume offset (u64), down resume offset (u64), credit (u64), server identity (address), alternates,
     * destination's X25519 key (32), confirmation (32).
     */
    public static final int MIGRATE_ACK = 0x04;
    /** S2 to C: reason (u8), whether the session is still alive on the origin (u8), message (u16 length, UTF-8). */
    public static final int MIGRATE_REJECT = 0x05;
    /** Either way: stream bytes, following the previous DATA on this connection. */
    public static final int DATA = 0x10;
    /** Either way: every byte of the peer's stream below this offset is held (u64); the peer may send below the credit (u64). */
    public static final int ACK = 0x11;
    /** Either way: the sender's stream ends at this offset (u64); the FIN counts as one offset. */
    public static final int FIN = 0x12;
    /** S to C: please migrate; has-destination (u8) then an address when 1. */
    public static final int TRIGGER = 0x13;
    /** Either way: fatal error; message (u16 length, UTF-8). The connection closes after it. */
    public static final int ERROR = 0x14;
    /** C to S1 on the old connection: the session switched to another server; nothing follows. */
    public static final int MOVED = 0x15;
    /**
     * Either way: an authenticated control frame: counter (u64), inner type (u8), inner payload, tag (16).
     * TRIGGER, TRIGGER_RESULT, ALTERNATES, RESET, MOVED and ERROR travel on a data connection only inside it.
     */
    public static final int SEALED = 0x16;
    /**
     * C to S, sealed: what became of a TRIGGER that did not move the session away: outcome (u8: 1 refused,
     * 2 superseded by a migration already under way, 3 the migration it started failed), reason (u8, as
     * MIGRATE_REJECT's), has-destination (u8) then an address when 1, message (u16 length, UTF-8).
     */
    public static final int TRIGGER_RESULT = 0x17;
    /**
     * S to C, sealed: the servers the session may move to now (alternates, as HELLO_ACK's), sent to every live
     * session when the server's list changes, so that a server that joined is a TRIGGER target at once.
     */
    public static final int ALTERNATES = 0x18;
    /**
     * Either way, sealed: the sender's application reset the connection on purpose (a close with
     * {@code SO_LINGER} 0, a session its server socket closed before accepting it): message (u16 length,
     * UTF-8). The receiver ends the session as a TCP reset ends it, and does not resume it.
     */
    public static final int RESET = 0x19;

    // ---- control connection frames ----
    /** Opens a control connection: the sender's service address. */
    public static final int CTRL_HELLO = 0x40;
    /**
     * S2 to S1: key (u64), session id (16), client's down received (u64), credit (u64), sequence (u64), client's
     * X25519 key (32), proof (32), S2 (address).
     */
    public static final int STATE_REQUEST = 0x41;
    /** S1 to S2: key (u64), then the serialized session state. */
    public static final int STATE_REPLY = 0x42;
    /** S1 to S2: key (u64), reason (u8), message (u16 length, UTF-8). */
    public static final int STATE_REJECT = 0x43;
    /** S2 to S1: key (u64): the destination installed the session; the commit point. */
    public static final int STATE_ACK = 0x44;
    /** S2 to S1: key (u64): the destination gave up; the origin resumes the session. */
    public static final int STATE_ABORT = 0x45;
    /**
     * Any server to the server holding a session (thesis 3.2.1(b), a third party's trigger; the destination
     * itself when it pulls): key (u64), session id (16), target (address). Answered by MOVE_RESULT.
     */
    public static final int MOVE_REQUEST = 0x46;
    /**
     * The holder to the asker: key (u64), flags (u8: 1 moved, 2 the session goes on at the holder), reason (u8, as
     * STATE_REJECT's; ignored when moved), has-destination (u8) then the address where it went when 1, message
     * (u16 length, UTF-8).
     */
    public static final int MOVE_RESULT = 0x47;

    // ---- reject reasons on the wire ----
    /** Reason codes carried by MIGRATE_REJECT and STATE_REJECT. */
    public static int reasonCode(MigrationException.Reason reason) {
        return reason.ordinal();
    }

    /**
     * @param code a reason code from the wire
     * @return the reason, {@link MigrationException.Reason#OTHER} for codes this version does not know
     */
    public static MigrationException.Reason reason(int code) {
        MigrationException.Reason[] all = MigrationException.Reason.values();
        return code >= 0 && code < all.length ? all[code] : MigrationException.Reason.OTHER;
    }

    /** @return the wire code of who started a migration (MIGRATE_REQ's last byte) */
    public static int initiationCode(org.mtcp.api.MigrationEvent.Initiation i) {
        return i.ordinal();
    }

    /**
     * @param code an initiation code from the wire
     * @return who started the migration, {@code UNKNOWN} for codes this version does not know (it is
     *         only reported, never acted on)
     */
    public static org.mtcp.api.MigrationEvent.Initiation initiation(int code) {
        org.mtcp.api.MigrationEvent.Initiation[] all = org.mtcp.api.MigrationEvent.Initiation.values();
        return code >= 0 && code < all.length ? all[code] : org.mtcp.api.MigrationEvent.Initiation.UNKNOWN;
    }

    /** @return a readable name of a frame type, for error messages */
    public static String typeName(int type) {
        switch (type) {
            case HELLO: return "HELLO";
            case HELLO_ACK: return "HELLO_ACK";
            case MIGRATE_REQ: return "MIGRATE_REQ";
            case MIGRATE_ACK: return "MIGRATE_ACK";
            case MIGRATE_REJECT: return "MIGRATE_REJECT";
            case DATA: return "DATA";
            case ACK: return "ACK";
            case FIN: return "FIN";
            case TRIGGER: return "TRIGGER";
            case ERROR: return "ERROR";
            case MOVED: return "MOVED";
            case SEALED: return "SEALED";
            case TRIGGER_RESULT: return "TRIGGER_RESULT";
            case ALTERNATES: return "ALTERNATES";
            case RESET: return "RESET";
            case CTRL_HELLO: return "CTRL_HELLO";
            case STATE_REQUEST: return "STATE_REQUEST";
            case STATE_REPLY: return "STATE_REPLY";
            case STATE_REJECT: return "STATE_REJECT";
            case STATE_ACK: return "STATE_ACK";
            case STATE_ABORT: return "STATE_ABORT";
            case MOVE_REQUEST: return "MOVE_REQUEST";
            case MOVE_RESULT: return "MOVE_RESULT";
            default: return "0x" + Integer.toHexString(type);
        }
    }
}
