package org.mtcp.samples.multihost;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.samples.stream.StreamContent;
import org.mtcp.samples.stream.StreamRequest;
import org.mtcp.samples.stream.StreamState;
import org.mtcp.server.ControlTls;
import org.mtcp.server.DnsSrvMembership;
import org.mtcp.server.MtcpServerSocket;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

/**
 * One server host of the multi-host demo: an {@link MtcpServerSocket} on this host's address, TLS on its
 * control connections (a node certificate from {@code DevCertificates}), its peers from DNS SRV records
 * ({@link DnsSrvMembership}), serving the stream application of the stream demo: the client's 16-byte
 * request, then the checkable stream ({@link StreamContent}) in paced chunks, with the next chunk's number
 * exported after every chunk, so a migrated copy resumes at exactly the right byte.
 *
 * <pre>
 * java -cp CP org.mtcp.samples.multihost.DemoServer NAME ADDRESS PORT CONTROL_PORT CERT_DIR DNS_HOST:PORT DOMAIN
 * </pre>
 *
 * {@code CERT_DIR} holds {@code ca.pem} and {@code NAME/node.p12} (password {@code changeit}). Runs until
 * killed; JMX (the {@code org.mtcp:type=MtcpServerSocket} bean) comes from the JVM's own agent flags.
 */
public final class DemoServer {
    /** A healthy server writes one 16 KiB chunk every 4 ms: 4 MiB/s. */
    static final Duration CHUNK_INTERVAL = Duration.ofMillis(4);

    private DemoServer() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: DemoServer NAME ADDRESS PORT CONTROL_PORT CERT_DIR DNS_HOST:PORT DOMAIN");
            System.exit(2);
        }
        String name = args[0];
        InetAddress address = InetAddress.getByName(args[1]);
        int port = Integer.parseInt(args[2]);
        int controlPort = Integer.parseInt(args[3]);
        Path certs = Path.of(args[4]);
        InetSocketAddress dns = hostPort(args[5]);
        String domain = args[6];

        SSLContext tls = ControlTls.fromPkcs12(certs.resolve(name).resolve("node.p12"), "changeit".toCharArray(),
                certs.resolve("ca.pem"));
        MtcpServerSocket server = new MtcpServerSocket(port, 50, address);
        InetSocketAddress self = new InetSocketAddress(address, port);
        server.setOption(MtcpOptions.CONTROL_TLS, tls); // first: the control address is not loopback
        // its own control endpoint, so it starts even before DNS lists it (docs/operations.md)
        server.setOption(MtcpOptions.CONTROL_MAPPINGS, Map.of(self, new InetSocketAddress(address, controlPort)));
        DnsSrvMembership membership = DnsSrvMembership.builder("_mtcp._tcp." + domain)
                .dnsServers(dns).refreshInterval(Duration.ofSeconds(2)).build();
        for (int attempt = 1; ; attempt++) { // dnsmasq may still be starting
            try {
                server.setMembership(membership);
                break;
            } catch (IOException e) {
                if (attempt == 20) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
        server.addMigrationListener(e -> log(name, (e.committed() ? "migration " : "migration FAILED ")
                + e.role() + " " + e.from() + " -> " + e.to() + " (" + e.initiation() + ", state " + e.stateBytes()
                + " B)" + (e.committed() ? "" : ": " + e.failure())));
        log(name, "ready on " + self + ", control " + address.getHostAddress() + ":" + controlPort
                + " (TLS), peers from SRV _mtcp._tcp." + domain + " at " + args[5] + ": " + advertised(server));

        ExecutorService pool = Executors.newCachedThreadPool();
        while (true) {
            Socket s = server.accept();
            pool.execute(() -> serve(name, s));
        }
    }

    static void serve(String name, Socket socket) {
        try (Socket s = socket) {
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] imported = s.getOption(MtcpOptions.APP_STATE);
            StreamState state;
            if (imported == null || imported.length == 0) {
                state = StreamState.start(StreamRequest.read(in)); // exactly the request's 16 bytes
                s.setOption(MtcpOptions.APP_STATE, state.encode(StreamState.MIN_BYTES));
                log(name, "new session from " + s.getRemoteSocketAddress());
            } else {
                state = StreamState.decode(imported);
                log(name, "session arrived by migration at stream offset " + state.offset());
            }
            byte[] chunk = new byte[state.request().chunkBytes()];
            long next = System.nanoTime();
            while (!state.done()) {
                next += CHUNK_INTERVAL.toNanos();
                long wait;
                while ((wait = next - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                int length = state.nextChunkBytes();
                StreamContent.fill(chunk, 0, length, state.offset());
                out.write(chunk, 0, length);
                out.flush();
                state = state.advance();
                s.setOption(MtcpOptions.APP_STATE, state.encode(StreamState.MIN_BYTES)); // export_state
                if (next < System.nanoTime()) {
                    next = System.nanoTime(); // a slow network is not made up for in a burst
                }
            }
        } catch (ConnectionMigratedException e) {
            log(name, "session migrated away");
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectionMigratedException) {
                log(name, "session migrated away");
            } else {
                log(name, "session ended: " + e.getMessage());
            }
        }
    }

    private static Object advertised(MtcpServerSocket server) {
        try {
            return server.getOption(MtcpOptions.ADDITIONAL_SERVERS);
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    static InetSocketAddress hostPort(String s) {
        int colon = s.lastIndexOf(':');
        return new InetSocketAddress(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
    }

    static void log(String name, String line) {
        System.out.println(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss.SSS")) + " [" + name + "] " + line);
        System.out.flush();
    }
}
