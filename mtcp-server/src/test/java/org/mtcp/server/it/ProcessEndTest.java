package org.mtcp.server.it;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the peer of a process that ends sees, with the JDK's own sockets as the oracle: each
 * scenario runs once between plain {@code Socket}/{@code ServerSocket} and once between
 * {@code MtcpSocket}/{@code MtcpServerSocket}, and both must observe the same. The client is a child
 * JVM that writes a known stream and then ends: normally after {@code close()}, normally without
 * it (the JVM's shutdown delivers what was written), or halted as a killed process would be. A killed
 * client is the one expected difference: an MTCP server waits for it to resume for {@code MTCP_RESUME_GRACE},
 * then its read fails saying the client did not come back (the robustness issue's link resume).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ProcessEndTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    /** More than the socket buffers and the session's send window hold: most of it is still in the writer's process at exit. */
    private static final int BIG = 4 << 20;
    private static final int SMALL = 100_000;

    /** The patterned byte at {@code offset} of the child's stream. */
    static byte at(long offset) {
        return (byte) (offset * 31 + (offset >>> 11));
    }

    /**
     * The client JVM: args = {@code mtcp|plain}, port, how to end.
     * {@code close-exit}: write {@value #BIG} bytes, close, System.exit; {@code exit}: the same without close;
     * {@code halt}/{@code halt-unread}: write {@value #SMALL} bytes, wait for the server's go byte, halt the JVM
     * (as a kill would), leaving the server's other bytes unread for {@code halt-unread}.
     */
    static final class Child {
        public static void main(String[] args) throws Exception {
            boolean mtcp = args[0].equals("mtcp");
            int port = Integer.parseInt(args[1]);
            String end = args[2];
            Socket s = mtcp ? new MtcpSocket(LO, port) : new Socket(LO, port);
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            int n = end.startsWith("halt") ? SMALL : BIG;
            byte[] chunk = new byte[8192];
            for (int off = 0; off < n; off += chunk.length) {
                int len = Math.min(chunk.length, n - off);
                for (int k = 0; k < len; k++) {
                    chunk[k] = at(off + k);
                }
                out.write(chunk, 0, len);
            }
            System.out.println("WRITTEN " + n);
            switch (end) {
                case "close-exit":
                    s.close();
                    System.exit(0);
                    break;
                case "exit":
                    System.exit(0);
                    break;
                default: // halt, halt-unread
                    int go = s.getInputStream().read();
                    System.out.println("GO " + go);
                    Runtime.getRuntime().halt(3);
            }
        }
    }

    /** What the server's application observed: bytes in order, then how the stream ended. */
    private static String serve(ServerSocket server, String end) throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        Thread child = new Thread(() -> {
            try {
                ChildJvm.Result r = ChildJvm.runWithArgs(Child.class, Map.of(), Duration.ofSeconds(90),
                        List.of(server instanceof MtcpServerSocket ? "mtcp" : "plain", String.valueOf(server.getLocalPort()), end));
                seen.set("child exit " + r.exitCode);
            } catch (Exception e) {
                seen.set("child " + e);
            }
        }, "test-child");
        child.start();
        server.setSoTimeout(60_000);
        StringBuilder observed = new StringBuilder();
        try (Socket a = server.accept()) {
            a.setSoTimeout(60_000);
            InputStream in = a.getInputStream();
            long got = 0;
            if (end.startsWith("halt")) {
                while (a.getInputStream().available() < SMALL) { // everything arrived, none read yet
                    Thread.sleep(5);
                }
                OutputStream out = a.getOutputStream();
                out.write(1); // go: the child halts with (halt-unread) or without unread bytes
                if (end.equals("halt-unread")) {
                    out.write(new byte[1000]);
                }
                out.flush();
                child.join(60_000); // the child is gone before anything is read
            }
            byte[] b = new byte[65536];
            String ending;
            while (true) {
                int n;
                try {
                    n = in.read(b);
                } catch (IOException e) {
                    String m = e.getMessage() == null ? "" : e.getMessage();
                    ending = e.getClass().getSimpleName() + (m.contains("did not come back") ? " did-not-come-back"
                            : m.contains("reset") ? " reset" : "");
                    break;
                }
                if (n < 0) {
                    ending = "-1";
                    break;
                }
                for (int k = 0; k < n; k++) {
                    if (b[k] != at(got + k)) {
                        throw new AssertionError("byte " + (got + k) + " differs: " + b[k] + " instead of " + at(got + k));
                    }
                }
                got += n;
                if (!end.startsWith("halt") && got % (1 << 20) < n) {
                    Thread.sleep(50); // a slow reader: the writer's JVM exits long before the last byte is read
                }
            }
            observed.append(got).append(" bytes, then ").append(ending);
        }
        child.join(90_000);
        return observed + " (" + seen.get() + ")";
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"close-exit", "exit", "halt", "halt-unread"})
    void thePeerOfAProcessThatEndsSeesWhatPlainTcpShows(String end) throws Exception {
        String jdk;
        try (ServerSocket plain = new ServerSocket(0, 50, LO)) {
            jdk = serve(plain, end);
        }
        String mtcp;
        try (MtcpServerSocket server = new MtcpServerSocket(0, 50, LO)) {
            server.setOption(MtcpOptions.RESUME_GRACE, Duration.ofMillis(1500));
            mtcp = serve(server, end);
        }
        if (end.startsWith("halt")) {
            // what migration (its link resume) changes: a killed client said nothing, so its connection's end may be a
            // broken link the client will resume over; the server waits for it for the grace period, then its read
            // fails saying the client did not come back. Every byte the client wrote arrives first, as with plain TCP
            assertEquals(SMALL + " bytes, then SocketException did-not-come-back (child exit 3)", mtcp,
                    "what the MTCP server saw when the client was killed (JDK: " + jdk + ")");
            return;
        }
        assertEquals(jdk, mtcp, "the MTCP server's application saw something else than a plain server's when the client " + end);
    }
}
