package org.mtcp.server.testkit;

import org.mtcp.api.MtcpOptions;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;

/** Deterministic server applications that follow the MTCP contract (thesis 3.3.2). */
public final class Apps {
    private Apps() {
    }

    /** @return byte {@code i} of the transformed echo of {@code b} */
    public static byte transform(byte b, long i) {
        return (byte) (b ^ (i * 31 + 7));
    }

    /** @return byte {@code i} of a test stream with seed {@code seed} */
    public static byte streamByte(long seed, long i) {
        long x = (i + 1) * 0x9E3779B97F4A7C15L ^ seed;
        x ^= x >>> 29;
        x *= 0xBF58476D1CE4E5B9L;
        return (byte) (x ^ (x >>> 32));
    }

    /**
     * Writes the next {@code b.length} bytes of the test stream {@code seed}, from {@code offset}, and exports the offset
     * after them (an 8-byte state): one step of a server that streams.
     *
     * @return the offset after them
     */
    public static long writeStreamChunk(Socket s, long seed, long offset, byte[] b) throws IOException {
        for (int k = 0; k < b.length; k++) {
            b[k] = streamByte(seed, offset + k);
        }
        s.getOutputStream().write(b);
        exportCount(s, offset + b.length, 8);
        return offset + b.length;
    }

    /**
     * Transforming echo: every byte read at offset i is written back as {@link #transform}. The state
     * is the count of bytes echoed (plus padding to {@code stateSize}), exported after every
     * {@code exportEvery}-th read. Output is a function of the input bytes only, however they are
     * chunked, as the contract requires.
     */
    public static Cluster.App transformingEcho(int stateSize, int exportEvery) {
        return (s, server) -> {
            long n = importCount(s);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[8192];
            int reads = 0;
            while (true) {
                int r = in.read(buf);
                if (r < 0) {
                    s.shutdownOutput();
                    return;
                }
                for (int k = 0; k < r; k++) {
                    buf[k] = transform(buf[k], n + k);
                }
                out.write(buf, 0, r);
                n += r;
                if (++reads % exportEvery == 0) {
                    exportCount(s, n, stateSize);
                }
            }
        };
    }

    /** @return the count in the imported state, 0 for a new connection */
    public static long importCount(Socket s) throws IOException {
        byte[] st = s.getOption(MtcpOptions.APP_STATE);
        return st.length == 0 ? 0 : ByteBuffer.wrap(st).getLong();
    }

    /** Exports a count padded to {@code size} bytes. */
    public static void exportCount(Socket s, long n, int size) throws IOException {
        byte[] st = new byte[Math.max(8, size)];
        ByteBuffer.wrap(st).putLong(n);
        s.setOption(MtcpOptions.APP_STATE, st);
    }

    /** Reads exactly {@code b.length} bytes. */
    public static void readFully(InputStream in, byte[] b) throws IOException {
        int off = 0;
        while (off < b.length) {
            int r = in.read(b, off, b.length - off);
            if (r < 0) {
                throw new EOFException("end of stream after " + off + " of " + b.length + " bytes");
            }
            off += r;
        }
    }

    /**
     * A round trip through {@link #transformingEcho}: writes {@code n} bytes of the up pattern from
     * offset {@code from} and checks the {@code n} transformed bytes that come back.
     */
    public static void echoRoundTrip(Socket s, long from, int n) throws IOException {
        byte[] b = Script.pattern(Script.UP, from, n);
        s.getOutputStream().write(b);
        byte[] got = new byte[n];
        readFully(s.getInputStream(), got);
        for (int k = 0; k < n; k++) {
            if (got[k] != transform(b[k], from + k)) {
                throw new AssertionError("echo byte " + (from + k) + ": sent " + b[k] + ", expected " + transform(b[k], from + k)
                        + ", received " + got[k]);
            }
        }
    }

    /**
     * {@link #echoRoundTrip(Socket, long, int)}, its failure prefixed with {@code where}.
     *
     * @return {@code from + n}: where the next round trip starts
     */
    public static long echoRoundTrip(Socket s, long from, int n, String where) throws IOException {
        try {
            echoRoundTrip(s, from, n);
        } catch (AssertionError e) {
            throw new AssertionError(where + ": " + e.getMessage(), e);
        }
        return from + n;
    }
}
