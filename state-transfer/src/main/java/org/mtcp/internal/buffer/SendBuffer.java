package org.mtcp.internal.buffer;

import java.nio.ByteBuffer;

/**
 * The bytes of one outgoing stream that the peer has not acknowledged yet: the client's retransmit
 * buffer, the server's write buffer. Bytes are addressed by their stream offset, which never changes
 * across migrations; the buffer holds {@code [head, tail)} in pooled chunks and gives a chunk back as
 * soon as acknowledgements pass it. Not thread-safe: the owning session's lock guards it.
 */
public final class SendBuffer {
    private final int chunkSize;
    private final ChunkRing chunks;
    /** Stream offset of byte 0 of the first chunk. */
    private long base;
    private long head;
    private long tail;

    /**
     * @param pool  where chunks come from
     * @param start stream offset of the first byte this buffer will hold
     */
    public SendBuffer(ChunkPool pool, long start) {
        this.chunkSize = pool.chunkSize();
        this.chunks = new ChunkRing(pool);
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
        return chunks.size();
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
            if (index >= chunks.size()) {
                chunks.addLast();
            }
            int n = Math.min(chunkSize - within, len);
            chunks.get(index).clear().put(within, src, off, n); // absolute puts check the limit a gather may have set
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
        while (chunks.size() > 0 && base + chunkSize <= head) {
            chunks.removeFirst();
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
            ByteBuffer c = chunks.get(ci);
            c.clear().position(within).limit(within + n);
            dst[index++] = c;
            o += n;
        }
        return index;
    }

    /** Copies {@code [from, to)} into {@code dst} at its position, which advances. */
    public void copyTo(long from, long to, ByteBuffer dst) {
        check(from, to);
        long o = from;
        while (o < to) {
            long rel = o - base;
            int ci = (int) (rel / chunkSize);
            int within = (int) (rel % chunkSize);
            int n = (int) Math.min(chunkSize - within, to - o);
            dst.put(dst.position(), chunks.get(ci).clear(), within, n); // a gather left its limit
            dst.position(dst.position() + n);
            o += n;
        }
    }

    /** Copies {@code [from, to)} into {@code dst} at {@code off}. */
    public void copyTo(long from, long to, byte[] dst, int off) {
        check(from, to);
        copyTo(from, to, ByteBuffer.wrap(dst, off, (int) (to - from)));
    }

    /** Gives every chunk back (keeping one spare); the buffer must be empty or about to be discarded. */
    public void releaseAll() {
        chunks.clear();
        base = head;
    }

    /** Gives the spare chunk back to the pool too (the connection went quiet or closed). */
    public void releaseSpare() {
        chunks.releaseSpare();
    }

    /** @return whether bookkeeping arrays are allocated (for tests of the idle footprint) */
    boolean holdsArrays() {
        return chunks.holdsArrays();
    }

    private void check(long from, long to) {
        if (from < head || to > tail || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") outside [" + head + ", " + tail + ")");
        }
    }
}
