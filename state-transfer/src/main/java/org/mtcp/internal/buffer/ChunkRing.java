package org.mtcp.internal.buffer;

import java.nio.ByteBuffer;

/**
 * The chunks a stream buffer holds, in order, taken from and given back to a {@link ChunkPool}. One
 * chunk is kept back as a spare when the ring empties, so a busy connection does not churn the shared
 * pool; {@link #releaseSpare()} gives it back when the connection goes quiet. Not thread-safe.
 */
final class ChunkRing {
    private final ChunkPool pool;
    private ByteBuffer[] ring = new ByteBuffer[8];
    private int first;
    private int count;
    private ByteBuffer spare;

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
        ByteBuffer c = spare != null ? spare.clear() : pool.take();
        spare = null;
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

    /** Gives the spare chunk back to the pool too (the connection went quiet or closed). */
    void releaseSpare() {
        if (spare != null) {
            pool.give(spare);
            spare = null;
        }
    }

    private void recycle(ByteBuffer c) {
        if (spare == null) {
            spare = c;
        } else {
            pool.give(c);
        }
    }
}
