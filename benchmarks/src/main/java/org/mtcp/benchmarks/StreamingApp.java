package org.mtcp.benchmarks;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The server application of the migration-under-load benchmarks ({@link StreamingMigrationBenchmark},
 * {@link FreshJvmMigrationBenchmark}). A new connection's first byte chooses the mode:
 * <ul>
 *   <li>{@link #IDLE}: echoes single bytes (as {@link StateApp} does, so {@link Net#ping} works), exporting the
 *       state after every echo;</li>
 *   <li>{@link #STREAM}: full duplex at full speed. The application's thread reads {@value #CHUNK}-byte chunks
 *       and checks each ({@link #check}); a writer thread of the session writes {@value #CHUNK}-byte chunks
 *       back without pause. The reader exports the state after every chunk it read.</li>
 * </ul>
 * The state is {@value #STATE_BYTES} bytes: the mode, the index of the next chunk to read and of the next
 * chunk to write. A chunk is a fixed random pattern (one per direction) whose first 8 bytes are replaced by
 * the chunk's index, so a byte lost, doubled or shifted anywhere (the read log replayed on the destination,
 * regenerated output dropped) fails the check. The export is taken under the lock the writer holds for each
 * whole write, so the state always names chunk boundaries in both directions, as the MTCP contract requires
 * (the state accounts for exactly the bytes read and written). The application copy on the origin ends with
 * {@link ConnectionMigratedException} (both threads); the {@link Acceptor} starts the copy on the destination
 * for the migrated connection, which resumes both streams from the imported state.
 */
public final class StreamingApp implements Acceptor.App {
    /** First byte of a connection: echo single bytes. */
    public static final int IDLE = 'I';
    /** First byte of a connection: stream both ways. */
    public static final int STREAM = 'S';
    /** Size of every write and of every checked read, both directions. */
    public static final int CHUNK = 16384;
    /** Size of the exported state: mode (1), next chunk to read (8), next chunk to write (8). */
    public static final int STATE_BYTES = 17;

    /** The pattern of client-to-server chunks. */
    static final byte[] UP = pattern(0x5eed0001L);
    /** The pattern of server-to-client chunks. */
    static final byte[] DOWN = pattern(0x5eed0002L);

    private static final AtomicInteger IDS = new AtomicInteger();

    /** Bytes read and checked by every session's server reader. */
    public final AtomicLong upChecked = new AtomicLong();
    /** Bytes written by every session's server writer. */
    public final AtomicLong downWritten = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final ExecutorService writers;
    private volatile boolean closing;

    /** An application with its own pool of writer threads (daemons, created on demand, reused). */
    public StreamingApp() {
        int id = IDS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        writers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "bench-stream-writer-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** @return the first failure that is not the end of a session (a failed check included), or {@code null} */
    public Throwable failure() {
        return failure.get();
    }

    /** From now on, I/O failures are the benchmark's teardown, not failures. */
    public void closing() {
        closing = true;
    }

    /**
     * @param seed pattern seed
     * @return {@value #CHUNK} pseudo-random bytes
     */
    static byte[] pattern(long seed) {
        byte[] p = new byte[CHUNK];
        long x = seed;
        for (int i = 0; i < CHUNK; i++) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            p[i] = (byte) (z ^ (z >>> 31));
        }
        return p;
    }

    /**
     * Makes {@code buf} chunk {@code index} of a stream.
     *
     * @param buf     a copy of the stream's pattern (bytes 8.. are left as they are)
     * @param index   chunk index
     */
    static void label(byte[] buf, long index) {
        ByteBuffer.wrap(buf).putLong(0, index);
    }

    /**
     * Checks that {@code buf} is chunk {@code index} of the stream with pattern {@code pattern}.
     *
     * @param buf     a chunk read
     * @param pattern the stream's pattern
     * @param index   the chunk index expected
     * @param what    names the stream in the failure
     * @throws IOException naming the first difference when it is not
     */
    static void check(byte[] buf, byte[] pattern, long index, String what) throws IOException {
        long got = ByteBuffer.wrap(buf).getLong(0);
        if (got != index || !Arrays.equals(buf, 8, CHUNK, pattern, 8, CHUNK)) {
            int at = Arrays.mismatch(buf, 8, CHUNK, pattern, 8, CHUNK);
            throw new IOException("exactly-once check failed: " + what + " chunk " + index + " (byte " + index * CHUNK
                    + " of the stream) carries index " + got + (at >= 0 ? ", pattern differs at byte " + (8 + at) + " of the chunk" : ""));
        }
    }

    private static void export(Socket s, int mode, long up, long down) throws IOException {
        byte[] st = new byte[STATE_BYTES];
        ByteBuffer.wrap(st).put((byte) mode).putLong(up).putLong(down);
        s.setOption(MtcpOptions.APP_STATE, st);
    }

    @Override
    public void serve(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        int mode;
        long up;
        long down;
        if (Boolean.TRUE.equals(s.getOption(MtcpOptions.MIGRATED))) {
            byte[] st = s.getOption(MtcpOptions.APP_STATE);
            if (st.length != STATE_BYTES) {
                throw fail(new IOException("imported a state of " + st.length + " bytes, not " + STATE_BYTES));
            }
            ByteBuffer b = ByteBuffer.wrap(st);
            mode = b.get();
            up = b.getLong();
            down = b.getLong();
        } else {
            mode = in.read();
            if (mode < 0) {
                return;
            }
            up = 0;
            down = 0;
            export(s, mode, 0, 0);
        }
        if (mode == IDLE) {
            echo(s);
        } else if (mode == STREAM) {
            stream(s, up, down);
        } else {
            throw fail(new IOException("unknown mode " + mode));
        }
    }

    private static void echo(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            out.write(b);
            out.flush();
            export(s, IDLE, 0, 0);
        }
    }

    private void stream(Socket s, long upFrom, long downFrom) throws IOException {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        Object lock = new Object();
        long[] next = {downFrom}; // next chunk to write, guarded by lock
        Future<?> writer = writers.submit(() -> {
            byte[] buf = DOWN.clone();
            try {
                while (true) {
                    synchronized (lock) {
                        label(buf, next[0]);
                        out.write(buf);
                        next[0]++;
                    }
                    downWritten.addAndGet(CHUNK);
                }
            } catch (IOException | RuntimeException e) {
                if (!ended(e)) {
                    fail(e);
                    Acceptor.closeQuietly(s); // ends the reader too
                }
            }
            return null;
        });
        byte[] buf = new byte[CHUNK];
        long up = upFrom;
        try {
            while (true) {
                int off = 0;
                while (off < CHUNK) {
                    int r = in.read(buf, off, CHUNK - off);
                    if (r < 0) {
                        return; // the client closed
                    }
                    off += r;
                }
                try {
                    check(buf, UP, up, "client-to-server");
                } catch (IOException e) {
                    throw fail(e);
                }
                up++;
                upChecked.addAndGet(CHUNK);
                synchronized (lock) {
                    export(s, STREAM, up, next[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!ended(e)) {
                fail(e);
            }
            throw e;
        } finally {
            try {
                writer.get(5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                Acceptor.closeQuietly(s);
                writer.cancel(true);
            } catch (ExecutionException e) {
                fail(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** @return whether {@code e} is the end of this copy of the session (migrated, or the peer or the benchmark closed it) */
    private boolean ended(Throwable e) {
        if (e instanceof ConnectionMigratedException || e.getCause() instanceof ConnectionMigratedException) {
            return true;
        }
        if (e instanceof IOException && String.valueOf(e.getMessage()).startsWith("exactly-once")) {
            return false;
        }
        return closing || e instanceof IOException && isEnd((IOException) e);
    }

    private static boolean isEnd(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Connection reset") || m.contains("Broken pipe") || m.contains("closed");
    }

    private <T extends Throwable> T fail(T e) {
        if (failure.compareAndSet(null, e)) {
            System.err.println("bench: streaming server application failed: " + e);
            e.printStackTrace();
        }
        return e;
    }
}
