package org.mtcp.internal.buffer;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A process-wide pool of fixed-size direct buffers ("chunks"), the only memory the stream buffers
 * hold. Sessions take chunks while data flows and give them back when it stops, so an idle session
 * holds none. The pool keeps at most {@code maxPooled} free chunks; beyond that, freed chunks are
 * left to the garbage collector.
 */
public final class ChunkPool {
    /** Bytes in a chunk. */
    public static final int CHUNK_SIZE = 16 * 1024;

    private static final ChunkPool SHARED = new ChunkPool(CHUNK_SIZE,
            Integer.getInteger("mtcp.pooledChunks", 1024));

    private final int chunkSize;
    private final ReentrantLock lock = new ReentrantLock();
    /** Free chunks; guarded by {@link #lock}. */
    private final ByteBuffer[] free;
    /** Number of free chunks; guarded by {@link #lock}. */
    private int count;

    /**
     * @param chunkSize bytes per chunk
     * @param maxPooled most free chunks kept
     */
    public ChunkPool(int chunkSize, int maxPooled) {
        this.chunkSize = chunkSize;
        this.free = new ByteBuffer[maxPooled];
    }

    /** @return the process-wide pool */
    public static ChunkPool shared() {
        return SHARED;
    }

    /** @return bytes per chunk */
    public int chunkSize() {
        return chunkSize;
    }

    /** @return a chunk with position 0 and limit at its capacity */
    public ByteBuffer take() {
        lock.lock();
        try {
            if (count > 0) {
                ByteBuffer b = free[--count];
                free[count] = null;
                return b.clear();
            }
        } finally {
            lock.unlock();
        }
        return ByteBuffer.allocateDirect(chunkSize);
    }

    /** @param chunk a chunk from {@link #take()} that the caller no longer uses */
    public void give(ByteBuffer chunk) {
        lock.lock();
        try {
            if (count < free.length) {
                free[count++] = chunk;
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return free chunks now pooled */
    public int pooled() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }
}
