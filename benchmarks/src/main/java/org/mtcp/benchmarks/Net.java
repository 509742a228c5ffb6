package org.mtcp.benchmarks;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/** Loopback helpers shared by the benchmarks. */
public final class Net {
    /** Every benchmark runs on loopback. */
    public static final InetAddress LO = InetAddress.getLoopbackAddress();

    /** Read timeout of benchmark sockets: a hang becomes an exception with a stack, not a stuck run. */
    public static final int SO_TIMEOUT_MS = 20_000;

    private Net() {
    }

    /**
     * Reserves distinct free loopback ports: all are held until all are chosen, so none comes twice.
     *
     * @param n how many
     * @return the port numbers, free again when this returns
     * @throws IOException when no port can be bound
     */
    public static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, LO);
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    /**
     * @param port a loopback port
     * @return its socket address
     */
    public static InetSocketAddress at(int port) {
        return new InetSocketAddress(LO, port);
    }

    /**
     * Reads exactly {@code len} bytes.
     *
     * @param in  stream
     * @param buf destination
     * @param len count
     * @throws IOException on I/O failure or a premature end of stream
     */
    public static void readFully(InputStream in, byte[] buf, int len) throws IOException {
        int off = 0;
        while (off < len) {
            int r = in.read(buf, off, len - off);
            if (r < 0) {
                throw new EOFException("end of stream after " + off + " of " + len + " bytes");
            }
            off += r;
        }
    }

    /**
     * One byte there and back: proves the session serves (and, for the migration benchmarks, that the
     * server application exported its state before the first migration).
     *
     * @param s a connected socket whose server echoes single bytes
     * @throws IOException when the echo fails or differs
     */
    public static void ping(Socket s) throws IOException {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write(0x5a);
        out.flush();
        int r = in.read();
        if (r != 0x5a) {
            throw new IOException("ping: expected 0x5a, read " + r + " on " + s);
        }
    }
}
