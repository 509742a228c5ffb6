package org.mtcp.internal.buffer;

import java.nio.ByteBuffer;

/**
 * The bytes of one outgoing stream that the peer has not acknowledged yet: the client's retransmit
 * buffer, the server's write buffer. Bytes are addressed by their stream offset, which never changes
 * across migrations; the buffer holds {@code [head, tail)} in pooled chunks and gives a chunk back as
 * soon as acknowledgements pass it. Not thread-safe: the owning session's lock guards it.
 */
public final class SendBuffer {
    private final ChunkPool pool;
    private final int chunkSize;
    private ByteBuffer[] ring = new ByteBuffer[4];
    private int first;
    private int count;
    /** Stream offset of byte 0 of the first chunk. */
    private long base;
    private long head;
    private long tail;
    /** A chunk kept back after the buffer emptied, so a busy connection does not churn the shared pool. */
    private ByteBuffer spare;

    /**
     * @param pool  where chunks come from
     * @param start stream offset of the first byte this buffer will hold
     */
    public SendBuffer(ChunkPool pool, long start) {
        this.pool = pool;
        this.chunkSize = pool.chunkSize();
        this.base = start;
        this.head = start;
        this.tail = start;
    }

    /** @return offset of the first byte held */
    public long head() {
        return head;
    }

    /** @return offset after the last byte held */
    public long tail() {
        return tail;
    }

    /** @return bytes held */
    public long size() {
        return tail - head;
    }

    /** @return chunks held (for memory accounting) */
    public int chunks() {
        return count;
    }

    /** Moves an empty buffer to a new start offset. */
    public void restartAt(long offset) {
        if (head != tail) {
            throw new IllegalStateException("restart of a send buffer holding " + size() + " bytes");
        }
        releaseAll();
        base = head = tail = offset;
    }

    /** Appends bytes at the tail. */
    public void append(byte[] src, int off, int len) {
        while (len > 0) {
            long rel = tail - base;
            int index = (int) (rel / chunkSize);
            int within = (int) (rel % chunkSize);
            if (index >= count) {
                addChunk();
            }
            int n = Math.min(chunkSize - within, len);
            chunk(index).clear().put(within, src, off, n); // absolute puts check the limit a gather may have set
            off += n;
            len -= n;
            tail += n;
        }
    }

    /** Forgets every byte below {@code offset} (acknowledged), giving back chunks it no longer needs. */
    public void trimTo(long offset) {
        if (offset <= head) {
            return;
        }
        if (offset > tail) {
            throw new IllegalArgumentException("trim to " + offset + " beyond the tail " + tail);
        }
        head = offset;
        if (head == tail) {
            releaseAll();
            base = tail;
            return;
        }
        while (count > 0 && base + chunkSize <= head) {
            recycle(ring[first]);
            ring[first] = null;
            first = (first + 1) % ring.length;
            count--;
            base += chunkSize;
        }
    }

    /**
     * Fills {@code dst} from {@code index} with the chunks holding {@code [from, to)}, each with its
     * position and limit set to the part in range, for a gathering write. The chunks are this buffer's
     * own: use them before the next call that changes the buffer.
     *
     * @return the index after the last buffer filled
     */
    public int gather(long from, long to, ByteBuffer[] dst, int index) {
        check(from, to);
        long o = from;
        while (o < to && index < dst.length) {
            long rel = o - base;
            int ci = (int) (rel / chunkSize);
            int within = (int) (rel % chunkSize);
            int n = (int) Math.min(chunkSize - within, to - o);
            ByteBuffer c = chunk(ci);
            c.clear().position(within).limit(within + n);
            dst[index++] = c;
            o += n;
        }
        return index;
    }

    /** Copies {@code [from, to)} into {@code dst} at {@code off}. */
    public void copyTo(long from, long to, byte[] dst, int off) {
        check(from, to);
        long o = from;
        while (o < to) {
            long rel = o - base;
            int ci = (int) (rel / chunkSize);
            int within = (int) (rel % chunkSize);
            int n = (int) Math.min(chunkSize - within, to - o);
            chunk(ci).clear().get(within, dst, off, n);
            off += n;
            o += n;
        }
    }

    /** Gives every chunk back (keeping one spare); the buffer must be empty or about to be discarded. */
    public void releaseAll() {
        while (count > 0) {
            recycle(ring[first]);
            ring[first] = null;
            first = (first + 1) % ring.length;
            count--;
        }
        first = 0;
        base = head;
    }

    /** Gives the spare chunk back to the pool too (the connection went idle or closed). */
    public void releaseSpare() {
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

    private void check(long from, long to) {
        if (from < head || to > tail || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") outside [" + head + ", " + tail + ")");
        }
    }

    private ByteBuffer chunk(int i) {
        return ring[(first + i) % ring.length];
    }

    private void addChunk() {
        if (count == ring.length) {
            ByteBuffer[] bigger = new ByteBuffer[ring.length * 2];
            for (int i = 0; i < count; i++) {
                bigger[i] = chunk(i);
            }
            ring = bigger;
            first = 0;
        }
        ByteBuffer c = spare != null ? spare.clear() : pool.take();
        spare = null;
        ring[(first + count) % ring.length] = c;
        count++;
    }
}
