package org.mtcp.samples.stream;

import java.nio.ByteBuffer;

/**
 * A stream session's application state, what the server exports after every chunk: the request (the
 * thesis's {@code state.fname}) and the number of the next chunk to send (its {@code state.off}),
 * padded to the application-state size under test so the experiment can vary it as the thesis did.
 *
 * @param request   what the client asked for
 * @param nextChunk number of the next chunk to write, from 0
 */
public record StreamState(StreamRequest request, long nextChunk) {
    /** Size of the state before padding. */
    public static final int MIN_BYTES = 24;

    private static final int MAGIC = 0x4D545353; // "MTSS"

    /** Checks the chunk number. */
    public StreamState {
        if (nextChunk < 0 || nextChunk > chunkCount(request)) {
            throw new IllegalArgumentException("chunk " + nextChunk + " outside a stream of " + chunkCount(request));
        }
    }

    /**
     * @param request a new session's request
     * @return its state before any chunk is sent
     */
    public static StreamState start(StreamRequest request) {
        return new StreamState(request, 0);
    }

    /** @return how many chunks the stream has */
    public long chunkCount() {
        return chunkCount(request);
    }

    /** @return {@code true} when every chunk has been written */
    public boolean done() {
        return nextChunk == chunkCount();
    }

    /** @return stream offset of the next chunk */
    public long offset() {
        return nextChunk * request.chunkBytes();
    }

    /** @return length of the next chunk (the last may be short) */
    public int nextChunkBytes() {
        return (int) Math.min(request.chunkBytes(), request.streamBytes() - offset());
    }

    /** @return the state after the next chunk is written */
    public StreamState advance() {
        return new StreamState(request, nextChunk + 1);
    }

    /**
     * @param stateBytes the application-state size under test; at least {@link #MIN_BYTES}
     * @return the snapshot to export, zero-padded to {@code stateBytes}
     */
    public byte[] encode(int stateBytes) {
        if (stateBytes < MIN_BYTES) {
            throw new IllegalArgumentException("state size below " + MIN_BYTES + ": " + stateBytes);
        }
        // a fresh array per snapshot: the library may keep the one it was given
        return ByteBuffer.allocate(stateBytes).putInt(MAGIC).putLong(request.streamBytes())
                .putInt(request.chunkBytes()).putLong(nextChunk).array();
    }

    /**
     * @param snapshot a snapshot from {@link #encode}, any padding
     * @return the state it holds
     * @throws IllegalArgumentException when it is not one
     */
    public static StreamState decode(byte[] snapshot) {
        if (snapshot.length < MIN_BYTES) {
            throw new IllegalArgumentException("snapshot of " + snapshot.length + " bytes is too short");
        }
        ByteBuffer buf = ByteBuffer.wrap(snapshot);
        int magic = buf.getInt();
        if (magic != MAGIC) {
            throw new IllegalArgumentException("not a stream snapshot: magic " + Integer.toHexString(magic));
        }
        StreamRequest request = new StreamRequest(buf.getLong(), buf.getInt());
        return new StreamState(request, buf.getLong());
    }

    private static long chunkCount(StreamRequest r) {
        return (r.streamBytes() + r.chunkBytes() - 1) / r.chunkBytes();
    }
}
