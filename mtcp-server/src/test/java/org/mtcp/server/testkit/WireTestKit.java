package org.mtcp.server.testkit;

import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** Reads frames off a plain blocking socket with the library's codec, for tests that play a peer by hand. */
public final class WireTestKit {
    private WireTestKit() {
    }

    /** @return the STATE_REQUEST a destination sends for the client's {@code request}, under {@code key} */
    public static Message.StateRequest stateRequest(long key, Message.MigrateRequest request) {
        return new Message.StateRequest(key, request.sessionId(), request.downReceived(), request.credit(), request.sequence(),
                request.clientPublic(), request.proof(), request.destination());
    }

    /** @return a STATE_REQUEST for session {@code id} with a made-up public key and proof */
    public static Message.StateRequest forgedStateRequest(long key, byte[] id, long downReceived, long sequence,
                                                          java.net.InetSocketAddress destination) {
        return new Message.StateRequest(key, id, downReceived, 1 << 20, sequence, org.mtcp.internal.crypto.X25519.ephemeral().publicKey(),
                new byte[Wire.PROOF_SIZE], destination);
    }

    /** @return the next frame on {@code in}, decoded (not DATA) */
    public static Message readMessage(InputStream in, String what) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int header = d.readInt();
        byte[] payload = new byte[FrameReader.payloadLength(header, Wire.MAX_CONTROL_CONNECTION_PAYLOAD, what)];
        d.readFully(payload);
        return Message.decode(Frames.headerType(header), ByteBuffer.wrap(payload), what);
    }
}
