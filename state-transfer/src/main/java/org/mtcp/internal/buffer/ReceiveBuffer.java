package org.mtcp.internal.buffer;

import org.mtcp.internal.wire.FrameReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The bytes of one incoming stream that the library holds: on a server the read log (from the last
 * snapshot to the application's read position) and the unread data; on a client just the unread data.
 *
 * <p>The network reads straight into pooled chunks, frame headers and all, and the frames are parsed
 * in place: the payload of each DATA frame stays where it landed and is recorded as a segment, so a
 * received byte is copied once, into the application's array, as with a plain socket. Segments are
 * kept in parallel primitive arrays (no object per frame). A chunk is given back once no segment
 * refers to it; a buffer with no segments holds no chunk at all.
 *
 * <p>Offsets: {@code start <= read <= end}. {@code [start, read)} is the log, {@code [read, end)} the
 * unread data. Not thread-safe: the owning session's lock guards it.
 */
public final class ReceiveBuffer {
    private static final int MIN_TAIL_ROOM = 512;
    private static final int MAX_READ_BUFFERS = 5;
    private static final int FIRST_SEGMENTS = 16;
    private static final long[] NO_CHUNKS = new long[0];
    private static final int[] NO_INTS = new int[0];
    private static final ByteBuffer[] NO_BUFFERS = new ByteBuffer[0];

    private final int chunkSize;
    private final ChunkRing chunks;
    /** Sequence number of the first chunk held. */
    private long firstSeq;
    /** Where the next network byte lands in the last chunk. */
    private int writePos;

    // The segment arrays and the read buffers exist only while the stream is in use: an idle
    // connection lets them go (releaseSpare), since idle sessions are what a server holds most of.
    private long[] segChunk = NO_CHUNKS;
    private int[] segPos = NO_INTS;
    private int[] segLen = NO_INTS;
    private int segFirst;
    private int segCount;

    private long start;
    private long read;
    private long end;
    /** Segment (counted from the first) and offset inside it where {@link #read} is. */
    private int readSeg;
    private int readIn;

    /** Chunk being parsed, so payload handed back by the parser can be located. */
    private long parsingSeq = -1;
    private ByteBuffer[] readBuffers = NO_BUFFERS;

    /**
     * @param pool  where chunks come from
     * @param start stream offset of the first byte this buffer will hold
     */
    public ReceiveBuffer(ChunkPool pool, long start) {
        this.chunkSize = pool.chunkSize();
        this.chunks = new ChunkRing(pool);
        this.start = start;
        this.read = start;
        this.end = start;
    }

    /** @return offset of the first byte held (start of the log) */
    public long start() {
        return start;
    }

    /** @return offset of the next byte the application reads */
    public long readOffset() {
        return read;
    }

    /** @return offset after the last byte held */
    public long end() {
        return end;
    }

    /** @return unread bytes */
    public long available() {
        return end - read;
    }

    /** @return chunks held (for memory accounting) */
    public int chunks() {
        return chunks.size();
    }

    /** Moves an empty buffer to a new start offset. */
    public void restartAt(long offset) {
        if (end != start) {
            throw new IllegalStateException("restart of a receive buffer holding " + (end - start) + " bytes");
        }
        start = read = end = offset;
        releaseUnused();
    }

    /**
     * Prepares buffers for one scattering network read of up to about {@code maxBytes}: the free end
     * of the last chunk, then fresh chunks.
     *
     * @return buffers to read into (positions and limits set), valid until {@link #afterRead}
     */
    public ByteBuffer[] prepareRead(int maxBytes) {
        if (readBuffers == NO_BUFFERS) {
            readBuffers = new ByteBuffer[MAX_READ_BUFFERS];
        }
        int n = 0;
        int room = 0;
        tailOffered = chunks.size() > 0 && chunkSize - writePos >= MIN_TAIL_ROOM;
        if (tailOffered) {
            readBuffers[n++] = chunks.get(chunks.size() - 1).clear().position(writePos);
            room += chunkSize - writePos;
        }
        firstNewIndex = chunks.size();
        while ((room < maxBytes || n == 0) && n < MAX_READ_BUFFERS) {
            readBuffers[n++] = chunks.addLast();
            room += chunkSize;
        }
        return n == MAX_READ_BUFFERS ? readBuffers : Arrays.copyOf(readBuffers, n);
    }

    /**
     * Parses what one network read put into the prepared buffers and gives back chunks it did not use.
     *
     * @param bytes   bytes the read returned (0 or more)
     * @param parser  the connection's frame parser
     * @param handler receives the frames; DATA payload it wants kept goes to {@link #keep}
     */
    public void afterRead(long bytes, FrameReader parser, FrameReader.Handler handler) throws IOException {
        long left = bytes;
        int lastUsed = firstNewIndex - 1;
        try {
            int index = tailOffered ? firstNewIndex - 1 : firstNewIndex;
            while (left > 0) {
                int from = index < firstNewIndex ? writePos : 0;
                int n = (int) Math.min(chunkSize - from, left);
                parsingSeq = firstSeq + index;
                writePos = from + n;
                lastUsed = index;
                parser.parse(chunks.get(index), from, from + n, handler);
                left -= n;
                index++;
            }
        } finally {
            parsingSeq = -1;
            while (chunks.size() - 1 > lastUsed) {
                chunks.removeLast();
            }
            releaseUnused();
        }
    }

    /** Whether the last prepared read offered the free end of the last chunk. */
    private boolean tailOffered;
    /** Index of the first chunk added by the last prepared read. */
    private int firstNewIndex;

    /**
     * Keeps DATA payload the parser is handing over, as the next bytes of the stream. Only valid from
     * within the handler during {@link #afterRead}.
     */
    public void keep(ByteBuffer buf, int pos, int len) {
        if (len == 0) {
            return;
        }
        if (parsingSeq < 0 || buf != chunks.get((int) (parsingSeq - firstSeq))) {
            throw new IllegalStateException("keep() outside of afterRead()");
        }
        addSegment(parsingSeq, pos, len);
        end += len;
    }

    /**
     * Copies unread bytes to {@code dst} and advances the read offset.
     *
     * @return bytes copied
     */
    public int read(byte[] dst, int off, int len) {
        int done = 0;
        while (done < len && read < end) {
            int s = (segFirst + readSeg) % segChunk.length;
            if (readIn == segLen[s]) {
                // the cursor stays at the end of a segment until more is read, so that a segment
                // extended by the next network read is still the cursor's
                readSeg++;
                readIn = 0;
                continue;
            }
            int n = Math.min(len - done, segLen[s] - readIn);
            chunkBySeq(segChunk[s]).get(segPos[s] + readIn, dst, off + done, n);
            done += n;
            readIn += n;
            read += n;
        }
        return done;
    }

    /** Forgets every byte below {@code offset}, which may not pass the read offset (the log is trimmed). */
    public void trimTo(long offset) {
        if (offset <= start) {
            return;
        }
        if (offset > read) {
            throw new IllegalArgumentException("trim to " + offset + " beyond the read offset " + read);
        }
        long drop = offset - start;
        while (drop > 0) {
            int s = segFirst;
            if (segLen[s] <= drop) {
                drop -= segLen[s];
                segFirst = (segFirst + 1) % segChunk.length;
                segCount--;
                if (readSeg == 0) {
                    readIn = 0; // the cursor was at the end of the dropped segment
                } else {
                    readSeg--;
                }
            } else {
                segPos[s] += (int) drop;
                segLen[s] -= (int) drop;
                if (readSeg == 0) {
                    readIn -= (int) drop;
                }
                drop = 0;
            }
        }
        start = offset;
        releaseUnused();
    }

    /** Copies {@code [from, to)} (within {@code [start, end)}) into {@code dst} at {@code off}. */
    public void copyTo(long from, long to, byte[] dst, int off) {
        if (from < start || to > end || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") outside [" + start + ", " + end + ")");
        }
        long o = start;
        for (int i = 0; i < segCount && o < to; i++) {
            int s = (segFirst + i) % segChunk.length;
            long segEnd = o + segLen[s];
            if (segEnd > from) {
                long a = Math.max(o, from);
                long b = Math.min(segEnd, to);
                chunkBySeq(segChunk[s]).get(segPos[s] + (int) (a - o), dst, off + (int) (a - from), (int) (b - a));
            }
            o = segEnd;
        }
    }

    /**
     * Fills an empty buffer with bytes that arrived by migration: {@code data} becomes the stream from
     * {@code offset}, all of it unread.
     */
    public void install(long offset, byte[] data) {
        if (end != start) {
            throw new IllegalStateException("install into a receive buffer holding " + (end - start) + " bytes");
        }
        releaseAll();
        start = read = end = offset;
        int done = 0;
        while (done < data.length) {
            ByteBuffer c = chunks.addLast();
            int n = Math.min(chunkSize, data.length - done);
            c.put(0, data, done, n);
            addSegment(firstSeq + chunks.size() - 1, 0, n);
            done += n;
            writePos = n;
            end += n;
        }
    }

    /** Gives back every chunk and forgets every byte. */
    public void releaseAll() {
        firstSeq += chunks.size();
        chunks.clear();
        segFirst = 0;
        segCount = 0;
        readSeg = 0;
        readIn = 0;
        start = read = end;
        writePos = 0;
    }

    /**
     * Gives the spare chunk back to the pool too (the connection went quiet or closed), and the
     * bookkeeping arrays when no byte is held.
     */
    public void releaseSpare() {
        chunks.releaseSpare();
        readBuffers = NO_BUFFERS;
        if (segCount == 0) {
            segChunk = NO_CHUNKS;
            segPos = NO_INTS;
            segLen = NO_INTS;
            segFirst = 0;
        }
    }

    /** @return whether bookkeeping arrays are allocated (for tests of the idle footprint) */
    boolean holdsArrays() {
        return chunks.holdsArrays() || readBuffers != NO_BUFFERS || segChunk != NO_CHUNKS;
    }

    private void releaseUnused() {
        if (segCount == 0) {
            // the raw bytes left are parsed already (headers, control frames): nothing refers to them
            firstSeq += chunks.size();
            chunks.clear();
            writePos = 0;
            readSeg = 0;
            readIn = 0;
            return;
        }
        long needed = segChunk[segFirst];
        while (chunks.size() > 1 && firstSeq < needed) {
            chunks.removeFirst();
            firstSeq++;
        }
    }

    private void addSegment(long seq, int pos, int len) {
        if (segCount > 0) {
            int last = (segFirst + segCount - 1) % segChunk.length;
            if (segChunk[last] == seq && segPos[last] + segLen[last] == pos) {
                segLen[last] += len;
                return;
            }
        }
        if (segCount == segChunk.length) {
            int n = Math.max(FIRST_SEGMENTS, segChunk.length * 2);
            long[] c = new long[n];
            int[] p = new int[n];
            int[] l = new int[n];
            for (int i = 0; i < segCount; i++) {
                int s = (segFirst + i) % segChunk.length;
                c[i] = segChunk[s];
                p[i] = segPos[s];
                l[i] = segLen[s];
            }
            segChunk = c;
            segPos = p;
            segLen = l;
            segFirst = 0;
        }
        int slot = (segFirst + segCount) % segChunk.length;
        segChunk[slot] = seq;
        segPos[slot] = pos;
        segLen[slot] = len;
        segCount++;
    }

    private ByteBuffer chunkBySeq(long seq) {
        return chunks.get((int) (seq - firstSeq));
    }
}
