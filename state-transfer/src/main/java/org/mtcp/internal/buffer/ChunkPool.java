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
    /** Stripes of free chunks, each with its own lock, so that threads rarely meet on one. */
    private final Stripe[] stripes;

    private static final class Stripe {
        final ReentrantLock lock = new ReentrantLock();
        /** Free chunks; guarded by {@link #lock}. */
        final ByteBuffer[] free;
        /** Number of free chunks; guarded by {@link #lock}. */
        int count;

        Stripe(int capacity) {
            free = new ByteBuffer[capacity];
        }
    }

    /**
     * @param chunkSize bytes per chunk
     * @param maxPooled most free chunks kept
     */
    public ChunkPool(int chunkSize, int maxPooled) {
        this.chunkSize = chunkSize;
        int n = 8;
        this.stripes = new Stripe[n];
        for (int i = 0; i < n; i++) {
            stripes[i] = new Stripe(Math.max(1, maxPooled / n));
        }
    }

    /** @return the process-wide pool */
    public static ChunkPool shared() {
        return SHARED;
    }

    /** @return bytes per chunk */
    public int chunkSize() {
        return chunkSize;
    }

    private int home() {
        return (int) (Thread.currentThread().getId() & (stripes.length - 1));
    }

    /** @return a chunk with position 0 and limit at its capacity */
    public ByteBuffer take() {
        int h = home();
        for (int i = 0; i < stripes.length; i++) {
            Stripe s = stripes[(h + i) & (stripes.length - 1)];
            if (i == 0 ? lockHome(s) : s.lock.tryLock()) {
                try {
                    if (s.count > 0) {
                        ByteBuffer b = s.free[--s.count];
                        s.free[s.count] = null;
                        return b.clear();
                    }
                } finally {
                    s.lock.unlock();
                }
            }
        }
        return ByteBuffer.allocateDirect(chunkSize);
    }

    /** @param chunk a chunk from {@link #take()} that the caller no longer uses */
    public void give(ByteBuffer chunk) {
        int h = home();
        for (int i = 0; i < stripes.length; i++) {
            Stripe s = stripes[(h + i) & (stripes.length - 1)];
            if (i == 0 ? lockHome(s) : s.lock.tryLock()) {
                try {
                    if (s.count < s.free.length) {
                        s.free[s.count++] = chunk;
                        return;
                    }
                } finally {
                    s.lock.unlock();
                }
            }
        }
        // every stripe full or busy: the garbage collector frees it
    }

    private static boolean lockHome(Stripe s) {
        s.lock.lock();
        return true;
    }

    /** @return free chunks now pooled */
    public int pooled() {
        int n = 0;
        for (Stripe s : stripes) {
            s.lock.lock();
            try {
                n += s.count;
            } finally {
                s.lock.unlock();
            }
        }
        return n;
    }
}
