package org.mtcp.internal.buffer;

import java.nio.ByteBuffer;

/**
 * The chunks a stream buffer holds, in order, taken from and given back to a {@link ChunkPool}. A few
 * chunks given back are kept as spares, so a busy connection does not churn the shared pool (a 64 KiB
 * write takes four chunks); {@link #releaseSpare()} gives them back when the connection goes quiet.
 * Not thread-safe.
 */
final class ChunkRing {
    private final ChunkPool pool;
    private ByteBuffer[] ring = new ByteBuffer[8];
    private int first;
    private int count;
    /** Chunks kept back for reuse. */
    private final ByteBuffer[] spares = new ByteBuffer[MAX_SPARES];
    private int spareCount;
    private static final int MAX_SPARES = 4;

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
            ByteBuffer[] bigger = new ByteBuffer[ring.length * 2];
            for (int i = 0; i < count; i++) {
                bigger[i] = get(i);
            }
            ring = bigger;
            first = 0;
        }
        ByteBuffer c = spareCount > 0 ? spares[--spareCount].clear() : pool.take();
        spares[spareCount] = null;
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

    /** Gives the spare chunks back to the pool too (the connection went quiet or closed). */
    void releaseSpare() {
        while (spareCount > 0) {
            pool.give(spares[--spareCount]);
            spares[spareCount] = null;
        }
    }

    private void recycle(ByteBuffer c) {
        if (spareCount < MAX_SPARES) {
            spares[spareCount++] = c;
        } else {
            pool.give(c);
        }
    }
}
