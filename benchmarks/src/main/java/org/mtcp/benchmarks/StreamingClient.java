package org.mtcp.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client end of {@link StreamingApp}'s {@link StreamingApp#STREAM} mode: sends the mode byte, then a writer
 * thread writes {@value StreamingApp#CHUNK}-byte chunks without pause and a reader thread reads and checks
 * every chunk the server writes ({@link StreamingApp#check}: each exactly once, in order), while the
 * benchmark thread migrates the socket.
 */
public final class StreamingClient implements AutoCloseable {
    /** Bytes written (handed to the socket). */
    public final AtomicLong upWritten = new AtomicLong();
    /** Bytes read and checked. */
    public final AtomicLong downChecked = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Socket socket;
    private final Thread writer;
    private final Thread reader;
    private volatile boolean closing;

    /**
     * Starts streaming.
     *
     * @param socket a connected socket to a {@link StreamingApp} that nobody has written to yet
     * @throws IOException when the mode byte cannot be written
     */
    public StreamingClient(Socket socket) throws IOException {
        this.socket = socket;
        OutputStream out = socket.getOutputStream();
        out.write(StreamingApp.STREAM);
        out.flush();
        writer = new Thread(this::write, "bench-client-writer");
        reader = new Thread(this::read, "bench-client-reader");
        writer.setDaemon(true);
        reader.setDaemon(true);
        writer.start();
        reader.start();
    }

    private void write() {
        byte[] buf = StreamingApp.UP.clone();
        try {
            OutputStream out = socket.getOutputStream();
            for (long i = 0; ; i++) {
                StreamingApp.label(buf, i);
                out.write(buf);
                upWritten.addAndGet(StreamingApp.CHUNK);
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    private void read() {
        byte[] buf = new byte[StreamingApp.CHUNK];
        try {
            InputStream in = socket.getInputStream();
            for (long i = 0; ; i++) {
                Net.readFully(in, buf, StreamingApp.CHUNK);
                StreamingApp.check(buf, StreamingApp.DOWN, i, "server-to-client");
                downChecked.addAndGet(StreamingApp.CHUNK);
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    private void failed(Throwable e) {
        if (!closing && failure.compareAndSet(null, e)) {
            System.err.println("bench: streaming client failed: " + e);
            e.printStackTrace();
        }
    }

    /**
     * Throws the first failure of either thread, if any.
     *
     * @throws IOException the failure
     */
    public void checkFailure() throws IOException {
        Throwable t = failure.get();
        if (t != null) {
            throw new IOException("streaming failed: " + t, t);
        }
    }

    /**
     * Waits until both directions moved on by at least {@code bytes} from now, and checks for failures.
     *
     * @param bytes         how far each direction must move
     * @param timeoutMillis how long to wait at most
     * @param what          names the moment in the failure
     * @throws IOException when a thread failed or a direction did not move in time
     */
    public void awaitFlow(long bytes, long timeoutMillis, String what) throws IOException {
        long up0 = upWritten.get();
        long down0 = downChecked.get();
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (upWritten.get() - up0 < bytes || downChecked.get() - down0 < bytes) {
            checkFailure();
            if (System.nanoTime() > deadline) {
                throw new IOException("streaming stalled " + what + ": in " + timeoutMillis + " ms the client wrote "
                        + (upWritten.get() - up0) + " bytes and read " + (downChecked.get() - down0) + " (wanted "
                        + bytes + " each way); client wrote " + upWritten.get() + ", read " + downChecked.get() + " in all");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        checkFailure();
    }

    /** Closes the socket (ends both threads) and waits for them. */
    @Override
    public void close() {
        closing = true;
        Acceptor.closeQuietly(socket);
        try {
            writer.join(5000);
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
