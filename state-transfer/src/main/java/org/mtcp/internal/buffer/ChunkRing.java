package org.mtcp.internal.buffer;

import java.nio.ByteBuffer;

/**
 * The chunks a stream buffer holds, in order, taken from and given back to a {@link ChunkPool}. A few
 * chunks given back are kept as spares, so a busy connection does not churn the shared pool (a 64 KiB
 * write takes four chunks); {@link #releaseSpare()} gives them back when the connection goes quiet.
 * The arrays exist only while they hold something: an idle connection's ring is one small object
 * (idle sessions are what a server holds most of). Not thread-safe.
 */
final class ChunkRing {
    private static final ByteBuffer[] NONE = new ByteBuffer[0];
    private static final int FIRST_CAPACITY = 8;
    private static final int MAX_SPARES = 4;

    private final ChunkPool pool;
    /** The chunks, from {@link #first}; {@link #NONE} while none is held and the ring was let go. */
    private ByteBuffer[] ring = NONE;
    private int first;
    private int count;
    /** Chunks kept back for reuse; {@link #NONE} until one is. */
    private ByteBuffer[] spares = NONE;
    private int spareCount;

    ChunkRing(ChunkPool pool) {
        this.pool = pool;
    }

    /** @return chunks held */
    int size() {
        return count;
    }

    /** @return chunk {@code i}, counted from the first */
    ByteBuffer get(int i) {
        return ring[(first + i) % ring.length];
    }

    /** Adds a chunk at the end (position 0, limit at capacity). */
    ByteBuffer addLast() {
        if (count == ring.length) {
            ByteBuffer[] bigger = new ByteBuffer[Math.max(FIRST_CAPACITY, ring.length * 2)];
            for (int i = 0; i < count; i++) {
                bigger[i] = get(i);
            }
            ring = bigger;
            first = 0;
        }
        ByteBuffer c;
        if (spareCount > 0) {
            c = spares[--spareCount].clear();
            spares[spareCount] = null;
        } else {
            c = pool.take();
        }
        ring[(first + count) % ring.length] = c;
        count++;
        return c;
    }

    /** Gives back the first chunk. */
    void removeFirst() {
        recycle(ring[first]);
        ring[first] = null;
        first = (first + 1) % ring.length;
        count--;
        if (count == 0) {
            first = 0;
        }
    }

    /** Gives back the last chunk. */
    void removeLast() {
        count--;
        int slot = (first + count) % ring.length;
        recycle(ring[slot]);
        ring[slot] = null;
    }

    /** Gives back every chunk. */
    void clear() {
        while (count > 0) {
            removeFirst();
        }
    }

    /**
     * Gives the spare chunks back to the pool too (the connection went quiet or closed), and lets the
     * arrays go when they hold nothing.
     */
    void releaseSpare() {
        while (spareCount > 0) {
            pool.give(spares[--spareCount]);
            spares[spareCount] = null;
        }
        spares = NONE;
        if (count == 0) {
            ring = NONE;
            first = 0;
        }
    }

    /** @return whether the ring or spare array is allocated (for tests of the idle footprint) */
    boolean holdsArrays() {
        return ring != NONE || spares != NONE;
    }

    private void recycle(ByteBuffer c) {
        if (spares == NONE) {
            spares = new ByteBuffer[MAX_SPARES];
        }
        if (spareCount < MAX_SPARES) {
            spares[spareCount++] = c;
        } else {
            pool.give(c);
        }
    }
}
