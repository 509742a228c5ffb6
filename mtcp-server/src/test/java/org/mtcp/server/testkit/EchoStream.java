package org.mtcp.server.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stream both ways through a transforming echo ({@link Apps#transformingEcho}): one thread writes {@code total}
 * bytes of {@link Apps#streamByte} with a seed, another reads the echo and checks every byte, so that a test can
 * break, move and resume the session meanwhile and still know that each byte arrived once, in order.
 */
public final class EchoStream {
    /** The writer; completes with the bytes written. */
    public final Background<Long> writer;
    /** The checking reader; completes with the bytes read, fails on the first wrong byte or an early end. */
    public final Background<Long> reader;
    /** Echoed bytes checked so far. */
    public final AtomicLong received = new AtomicLong();

    /**
     * Starts both threads.
     *
     * @param pauseEveryChunk whether the writer pauses a millisecond after each 8 KiB (a steady stream rather than a flood)
     */
    public EchoStream(Socket s, long seed, long total, boolean pauseEveryChunk) {
        writer = Background.start("echo writer", () -> {
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[8192];
            for (long at = 0; at < total; ) {
                int n = (int) Math.min(chunk.length, total - at);
                for (int k = 0; k < n; k++) {
                    chunk[k] = Apps.streamByte(seed, at + k);
                }
                out.write(chunk, 0, n);
                at += n;
                if (pauseEveryChunk) {
                    Thread.sleep(1);
                }
            }
            return total;
        });
        reader = Background.start("echo reader", () -> {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16384];
            long at = 0;
            while (at < total) {
                int r = in.read(buf);
                if (r < 0) {
                    throw new IOException("end of stream after " + at + " of " + total + " bytes");
                }
                for (int k = 0; k < r; k++) {
                    byte want = Apps.transform(Apps.streamByte(seed, at + k), at + k);
                    if (buf[k] != want) {
                        throw new AssertionError("echo byte " + (at + k) + " is " + buf[k] + ", expected " + want + " (seed " + seed
                                + ", sent " + total + ", received " + at + " before this read)");
                    }
                }
                at += r;
                received.set(at);
            }
            return at;
        });
    }
}
