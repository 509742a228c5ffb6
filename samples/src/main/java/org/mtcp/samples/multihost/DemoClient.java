package org.mtcp.samples.multihost;

import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MtcpSocket;
import org.mtcp.client.SmoothedThroughputPolicy;
import org.mtcp.samples.stream.StreamContent;
import org.mtcp.samples.stream.StreamRequest;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client host of the multi-host demo: one {@link MtcpSocket} to the first server, a migration policy
 * (the thesis's smoothed throughput, {@link WindowedPolicy}), and a loop that reads the stream and checks
 * every byte against {@link StreamContent}. Prints a line per migration and one per second (server, bytes
 * verified, throughput), and keeps the current server in a status file for the script.
 *
 * <pre>
 * java -cp CP org.mtcp.samples.multihost.DemoClient SERVER_HOST:PORT STATUS_FILE STOP_FILE MAX_SECONDS
 * </pre>
 *
 * It stops when {@code STOP_FILE} appears (or after {@code MAX_SECONDS}), closes, prints the totals and
 * exits with 0 when every byte was right and the stream never broke, 1 otherwise.
 */
public final class DemoClient {
    private static volatile long verified;
    private static volatile long badBytes;
    private static final AtomicInteger migrations = new AtomicInteger();
    private static final long START = System.nanoTime();

    private DemoClient() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: DemoClient SERVER_HOST:PORT STATUS_FILE STOP_FILE MAX_SECONDS");
            System.exit(2);
        }
        InetSocketAddress first = DemoServer.hostPort(args[0]);
        Path status = Path.of(args[1]);
        Path stop = Path.of(args[2]);
        long maxNanos = Duration.ofSeconds(Long.parseLong(args[3])).toNanos();

        String error = null;
        long firstBad = -1;
        MtcpSocket socket = new MtcpSocket(first.getAddress(), first.getPort());
        WindowedPolicy policy = new WindowedPolicy(new SmoothedThroughputPolicy(
                SmoothedThroughputPolicy.DEFAULT_ALPHA, SmoothedThroughputPolicy.DEFAULT_THRESHOLD, Duration.ofSeconds(1)),
                Duration.ofMillis(100).toNanos());
        try {
            socket.setSoTimeout(15_000);
            socket.setMigrationPolicy(policy);
            socket.addMigrationListener(DemoClient::onMigration);
            print("connected to " + name(socket.currentServer()) + ", session " + socket.sessionId()
                    + ", alternates " + socket.getOption(org.mtcp.api.MtcpOptions.ADDITIONAL_SERVERS));
            writeStatus(status, socket);
            socket.getOutputStream().write(new StreamRequest(1L << 40, 16 * 1024).encode());
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long nextReport = START + 1_000_000_000L;
            long lastReportBytes = 0;
            long lastReportNanos = START;
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    error = "the stream ended early";
                    break;
                }
                int bad = StreamContent.firstMismatch(buf, 0, n, verified);
                if (bad >= 0) {
                    if (firstBad < 0) {
                        firstBad = verified + bad;
                    }
                    badBytes += StreamContent.countMismatches(buf, bad, n - bad, verified + bad);
                }
                verified += n;
                long now = System.nanoTime();
                if (now >= nextReport) {
                    double rate = (verified - lastReportBytes) / ((now - lastReportNanos) / 1e9);
                    print(String.format(Locale.ROOT, "on %-4s %9.2f MiB verified  %8.1f KiB/s  errors %d",
                            name(socket.currentServer()), verified / 1048576.0, rate / 1024, badBytes));
                    writeStatus(status, socket);
                    lastReportBytes = verified;
                    lastReportNanos = now;
                    nextReport += 1_000_000_000L;
                    if (Files.exists(stop) || now - START > maxNanos) {
                        break;
                    }
                }
            }
        } catch (IOException e) {
            error = e.toString();
        } finally {
            socket.close();
        }
        boolean ok = error == null && badBytes == 0;
        print(String.format(Locale.ROOT, "done: %d bytes (%.2f MiB) verified, %d wrong%s, %d migrations%s -> %s",
                verified, verified / 1048576.0, badBytes, firstBad >= 0 ? " (first at offset " + firstBad + ")" : "",
                migrations.get(), error == null ? "" : ", error: " + error, ok ? "OK" : "FAILED"));
        System.exit(ok ? 0 : 1);
    }

    private static void onMigration(MigrationEvent e) {
        if (e.committed()) {
            int n = migrations.incrementAndGet();
            print(String.format(Locale.ROOT, "migration #%d: %s -> %s (%s) at %.2f MiB, %.1f ms",
                    n, name(e.from()), name(e.to()), why(e), verified / 1048576.0, e.totalNanos() / 1e6));
        } else {
            print("migration " + name(e.from()) + " -> " + name(e.to()) + " FAILED (" + why(e) + "): " + e.failure());
        }
    }

    private static String why(MigrationEvent e) {
        return switch (e.initiation()) {
            case POLICY -> "client policy: throughput fell";
            case SERVER_TRIGGER -> "server trigger";
            case CLIENT -> "client";
            case UNKNOWN -> "unknown";
            case RESUME -> "resumed after the connection broke";
        };
    }

    /** s1 for 10.77.0.1:9001 and so on: the demo's naming. */
    static String name(InetSocketAddress a) {
        if (a == null) {
            return "-";
        }
        byte[] ip = a.getAddress().getAddress();
        return ip.length == 4 && ip[0] == 10 && ip[1] == 77 && ip[3] >= 1 && ip[3] <= 9 ? "s" + ip[3] : a.toString();
    }

    private static void writeStatus(Path status, MtcpSocket socket) throws IOException {
        InetSocketAddress a = socket.currentServer();
        String line = name(a) + " " + a.getAddress().getHostAddress() + ":" + a.getPort() + " " + migrations.get() + "\n";
        Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
        Files.writeString(tmp, line, StandardCharsets.UTF_8);
        Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void print(String line) {
        System.out.printf(Locale.ROOT, "%6.1fs  %s%n", (System.nanoTime() - START) / 1e9, line);
        System.out.flush();
    }
}
