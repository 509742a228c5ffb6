package org.mtcp.samples.stream;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;

/**
 * The client's request, the only bytes it ever sends: a fixed-size header naming the stream's length
 * and the chunk size. Fixed size, so the server reads exactly these bytes and no more: a migratory
 * server's snapshot must account for every byte it has read.
 *
 * @param streamBytes length of the stream to send
 * @param chunkBytes  size of the chunks the server writes and snapshots after
 */
public record StreamRequest(long streamBytes, int chunkBytes) {
    /** Size of the encoded request. */
    public static final int BYTES = 16;
    /** Largest chunk a server accepts to allocate. */
    public static final int MAX_CHUNK_BYTES = 1 << 20;

    private static final int MAGIC = 0x4D545352; // "MTSR"

    /** Checks the fields. */
    public StreamRequest {
        if (streamBytes < 0) {
            throw new IllegalArgumentException("negative stream length: " + streamBytes);
        }
        if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
            throw new IllegalArgumentException("chunk size must be in [1, " + MAX_CHUNK_BYTES + "]: " + chunkBytes);
        }
    }

    /** @return the request as sent on the wire */
    public byte[] encode() {
        return ByteBuffer.allocate(BYTES).putInt(MAGIC).putLong(streamBytes).putInt(chunkBytes).array();
    }

    /**
     * Reads exactly {@link #BYTES} bytes.
     *
     * @param in the connection's own input stream, not a buffering wrapper
     * @return the request
     * @throws IOException on I/O errors, a closed connection or a malformed request
     */
    public static StreamRequest read(InputStream in) throws IOException {
        byte[] b = in.readNBytes(BYTES);
        if (b.length < BYTES) {
            throw new EOFException("connection closed after " + b.length + " of the request's " + BYTES + " bytes");
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        int magic = buf.getInt();
        if (magic != MAGIC) {
            throw new ProtocolException("not a stream request: magic " + Integer.toHexString(magic));
        }
        try {
            return new StreamRequest(buf.getLong(), buf.getInt());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("bad stream request: " + e.getMessage());
        }
    }
}
