package org.mtcp.internal.crypto;

import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;

import javax.crypto.Mac;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Authenticates the control frames of one data connection (TRIGGER, MOVED, ERROR), as QUIC and TLS
 * protect theirs: each goes inside a SEALED frame with a counter that grows by one per frame and a tag,
 * the HMAC-SHA256 (truncated to {@value KeySchedule#TAG_SIZE} bytes) of the counter, the inner type
 * and the inner payload under the sending direction's control key. A receiver takes a frame only
 * with a right tag and a counter above the last it took: a forged, altered, replayed or reflected
 * frame is refused. Control frames are rare, so a seal keeps only the session key (which the session holds
 * anyway; an idle session stays small) and derives the direction's key and makes a MAC when one is needed
 * (an HKDF expansion: about an HMAC more per control frame). Guarded by the owning session's lock.
 */
public final class ControlSeal {
    /** The session key of this connection, shared with the session (never changed in place: a new key is a new array). */
    private final byte[] sessionKey;
    /** Whose seal: the client sends under the client's control key and opens under the server's. */
    private final boolean client;
    private long sent;
    private long received = -1;

    private ControlSeal(byte[] sessionKey, boolean client) {
        this.sessionKey = sessionKey;
        this.client = client;
    }

    /** @return the client's seal for a connection of the session with key {@code sessionKey} */
    public static ControlSeal client(byte[] sessionKey) {
        return new ControlSeal(sessionKey, true);
    }

    /** @return the server's seal for a connection of the session with key {@code sessionKey} */
    public static ControlSeal server(byte[] sessionKey) {
        return new ControlSeal(sessionKey, false);
    }

    private byte[] sendKey() {
        return KeySchedule.derive(sessionKey, client ? KeySchedule.Purpose.CLIENT_CONTROL : KeySchedule.Purpose.SERVER_CONTROL);
    }

    private byte[] receiveKey() {
        return KeySchedule.derive(sessionKey, client ? KeySchedule.Purpose.SERVER_CONTROL : KeySchedule.Purpose.CLIENT_CONTROL);
    }

    /** @return {@code m} sealed with the next counter, ready to write */
    public Message.Sealed seal(Message m) {
        byte[] payload = Message.payload(m);
        long counter = sent++;
        return new Message.Sealed(counter, m.type(), payload, tag(sendKey(), counter, m.type(), payload));
    }

    /**
     * @return the frame inside {@code s}
     * @throws ProtocolException when its tag is wrong, its counter not above the last one taken, or
     *                           the inner frame is not one that may be sealed; nothing is taken then
     */
    public Message open(Message.Sealed s, Object where) throws ProtocolException {
        byte[] expected = tag(receiveKey(), s.counter(), s.innerType(), s.innerPayload());
        if (!MessageDigest.isEqual(expected, s.tag())) {
            throw new ProtocolException("a " + Wire.typeName(s.innerType()) + " frame on " + where
                    + " carries a wrong tag (not sent by the peer under this session's key)");
        }
        if (s.counter() <= received) {
            throw new ProtocolException("a " + Wire.typeName(s.innerType()) + " frame on " + where + " replays counter "
                    + s.counter() + " (last taken " + received + ")");
        }
        int t = s.innerType();
        if (t != Wire.TRIGGER && t != Wire.TRIGGER_RESULT && t != Wire.ALTERNATES && t != Wire.RESET && t != Wire.MOVED
                && t != Wire.ERROR) {
            throw new ProtocolException("a sealed " + Wire.typeName(t) + " frame on " + where + ": only TRIGGER,"
                    + " TRIGGER_RESULT, ALTERNATES, RESET, MOVED and ERROR are sealed");
        }
        Message inner = s.inner(where);
        received = s.counter();
        return inner;
    }

    private static byte[] tag(byte[] key, long counter, int type, byte[] payload) {
        Mac mac = KeySchedule.mac(key);
        mac.update(ByteBuffer.allocate(9).putLong(counter).put((byte) type).array());
        mac.update(payload);
        return Arrays.copyOf(mac.doFinal(), KeySchedule.TAG_SIZE);
    }
}
