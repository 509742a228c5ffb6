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

    /** @return the next frame on {@code in}, decoded (not DATA) */
    public static Message readMessage(InputStream in, String what) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int header = d.readInt();
        byte[] payload = new byte[FrameReader.payloadLength(header, Wire.MAX_CONTROL_CONNECTION_PAYLOAD, what)];
        d.readFully(payload);
        return Message.decode(Frames.headerType(header), ByteBuffer.wrap(payload), what);
    }
}
