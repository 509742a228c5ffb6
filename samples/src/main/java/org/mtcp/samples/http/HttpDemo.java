package org.mtcp.samples.http;

import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MtcpSocketImplFactory;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The web server of the thesis's section 6.1.2 serving an unmodified client: three cooperating
 * {@link HttpFileServer}s on loopback share a generated document root; a plain
 * {@link HttpURLConnection} downloads a file while each server asks its client to move on to the
 * next server after every few MiB it serves. One line is printed per migration, and the SHA-256 of
 * what arrived is checked against the file's.
 *
 * <p>The only client-side change is one line, once per JVM:
 * {@code Socket.setSocketImplFactory(new MtcpSocketImplFactory(address -> isOneOfOurServers))}.
 *
 * <p>Run it with {@code ./mvnw -q -pl samples exec:java -Dexec.mainClass=org.mtcp.samples.http.HttpDemo}
 * (options with {@code -Dexec.args="--size 256 --every 16"}; {@code --help} lists them). It fails
 * (exception, non-zero exit) when a byte was lost, duplicated or corrupted.
 */
public final class HttpDemo {
    /** The destinations the global socket factory makes migratory: this run's servers. */
    private static final Set<InetSocketAddress> MTCP_SERVERS = new CopyOnWriteArraySet<>();
    private static boolean factoryInstalled;
    /** The JVM's socket factory, once installed: its statistics count the hidden client socket's duplicates. */
    private static volatile MtcpSocketImplFactory factory;

    /**
     * The demo's settings.
     *
     * @param sizeMiB    size of the file downloaded
     * @param everyMiB   each server triggers a migration after serving this much
     * @param servers    cooperating servers
     * @param chunkKiB   body bytes per write and per state export
     * @param rateMiB    each server's cap on a response's speed, MiB/s, 0 for none
     */
    public record Options(int sizeMiB, int everyMiB, int servers, int chunkKiB, int rateMiB) {
        /** Checks the values. */
        public Options {
            if (sizeMiB < 1 || everyMiB < 1 || servers < 2 || chunkKiB < 1 || rateMiB < 0) {
                throw new IllegalArgumentException("need size >= 1 MiB, every >= 1 MiB, servers >= 2, chunk >= 1 KiB, rate >= 0");
            }
        }

        /**
         * @return 64 MiB, a migration every 8 MiB per server, 3 servers, 64 KiB chunks, 32 MiB/s (on
         *         loopback an uncapped download ends before the servers have asked for many migrations)
         */
        public static Options defaults() {
            return new Options(64, 8, 3, 64, 32);
        }
    }

    /**
     * What a run did.
     *
     * @param verified   every byte arrived exactly once (length and SHA-256 match)
     * @param bytes      bytes received
     * @param migrations committed migrations, as the destinations counted them
     * @param millis     download time
     */
    public record Result(boolean verified, long bytes, int migrations, long millis) {
    }

    private static final String USAGE = String.join("\n",
            "usage: HttpDemo [options]   (defaults in brackets)",
            "  --size MIB      file size                                  [64]",
            "  --every MIB     each server triggers a migration per MIB   [8]",
            "  --servers N     cooperating servers                        [3]",
            "  --chunk KIB     bytes per write and state export           [64]",
            "  --rate MIB      cap on a response's speed, MiB/s, 0 = none [32]",
            "  --help          this text");

    private HttpDemo() {
    }

    /**
     * Command-line entry point.
     *
     * @param args options, see the class comment
     * @throws Exception when the download fails or its bytes do not match the file
     */
    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage() == null ? USAGE : e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.println(USAGE);
            return;
        }
        Result r = run(options, System.out);
        if (!r.verified()) {
            throw new IllegalStateException("download corrupted: see above");
        }
    }

    /**
     * @param args {@code --size}, {@code --every}, {@code --servers}, {@code --chunk}, {@code --rate}, {@code --help}
     * @return the options, or {@code null} for {@code --help}
     */
    static Options parse(String... args) {
        Options d = Options.defaults();
        int size = d.sizeMiB();
        int every = d.everyMiB();
        int servers = d.servers();
        int chunk = d.chunkKiB();
        int rate = d.rateMiB();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return null;
            }
            if (!List.of("--size", "--every", "--servers", "--chunk", "--rate").contains(a)) {
                throw new IllegalArgumentException("unknown option: " + a);
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException("missing value after " + a);
            }
            int v;
            try {
                v = Integer.parseInt(args[++i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number after " + a + ": " + args[i], e);
            }
            switch (a) {
                case "--size" -> size = v;
                case "--every" -> every = v;
                case "--servers" -> servers = v;
                case "--chunk" -> chunk = v;
                case "--rate" -> rate = v;
                default -> throw new AssertionError(a);
            }
        }
        return new Options(size, every, servers, chunk, rate);
    }

    /**
     * Runs the demo once: generate, serve, download, verify.
     *
     * @param options what to run
     * @param console where the progress lines go
     * @return what happened
     * @throws IOException when the servers cannot start or the download fails
     */
    public static Result run(Options options, PrintStream console) throws IOException {
        Path root = Files.createTempDirectory("mtcp-http-demo");
        try {
            long size = (long) options.sizeMiB() << 20;
            String expected = GeneratedFile.write(root.resolve("big.bin"), size, 2001);
            console.printf(Locale.ROOT, "document root %s: big.bin, %d MiB, sha256 %s%n", root, options.sizeMiB(), expected);
            try (HttpCluster cluster = HttpCluster.start(options.servers(), root,
                    () -> TriggerPolicy.everyBytes((long) options.everyMiB() << 20))) {
                AtomicInteger migrations = new AtomicInteger();
                for (HttpFileServer s : cluster.servers()) {
                    s.setChunkBytes(options.chunkKiB() << 10);
                    s.setRateLimit((long) options.rateMiB() << 20);
                    s.setLog(console::println);
                    s.addMigrationListener(e -> printMigration(e, cluster, migrations, console));
                    console.printf("%s listening on %s%n", s.name(), s.serviceAddress());
                }
                makeMigratory(cluster);

                URI uri = URI.create("http://127.0.0.1:" + cluster.entry().getPort() + "/big.bin");
                console.printf("GET %s with java.net.HttpURLConnection; each server asks its client to move on every %d MiB, sends at most %d MiB/s%n",
                        uri, options.everyMiB(), options.rateMiB());
                // the client's side of each migration, as JDK Flight Recorder records it (HttpURLConnection
                // does not show its socket: its duplicates come from the factory's statistics, before and after)
                List<RecordedEvent> clientSide;
                long duplicatesBefore = clientDuplicates();
                long t0 = System.nanoTime();
                Recording recording = new Recording();
                recording.enable("org.mtcp.Migration");
                recording.start();
                HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
                c.setConnectTimeout(10_000);
                c.setReadTimeout(30_000);
                GeneratedFile.Digest got;
                long announced;
                try (InputStream in = c.getInputStream()) {
                    announced = c.getContentLengthLong();
                    got = GeneratedFile.digest(in);
                } finally {
                    c.disconnect();
                }
                long millis = (System.nanoTime() - t0) / 1_000_000;
                clientSide = clientEvents(recording);
                boolean verified = got.length() == size && announced == size && got.sha256().equals(expected);
                console.printf(Locale.ROOT, "received %d bytes (Content-Length %d) in %d ms, %.0f MiB/s, sha256 %s: %s%n",
                        got.length(), announced, millis, got.length() / 1048576.0 / Math.max(millis, 1) * 1000,
                        got.sha256(), verified ? "identical to the file" : "MISMATCH");
                printCounts(cluster, clientSide, clientDuplicates() - duplicatesBefore, console);
                if (!cluster.failures().isEmpty()) {
                    console.println("server failures: " + cluster.failures());
                }
                return new Result(verified && cluster.failures().isEmpty(), got.length(), migrations.get(), millis);
            }
        } finally {
            deleteTree(root);
        }
    }

    private static List<RecordedEvent> clientEvents(Recording recording) throws IOException {
        Path file = Files.createTempFile("mtcp-http-demo", ".jfr");
        try (recording) {
            recording.stop();
            recording.dump(file);
            List<RecordedEvent> client = new ArrayList<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getEventType().getName().equals("org.mtcp.Migration") && e.getString("role").equals("CLIENT")) {
                    client.add(e);
                }
            }
            return client;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * The counters of the download, one column per server and one for the client: a migration counts
     * once at its origin (out) and once at its destination (in).
     */
    /** @return duplicates the factory's client sockets dropped so far, -1 without the factory */
    private static long clientDuplicates() {
        MtcpSocketImplFactory f = factory;
        return f == null ? -1 : f.statistics().duplicateBytesDropped();
    }

    static void printCounts(HttpCluster cluster, List<RecordedEvent> clientSide, long clientDuplicates, PrintStream console) {
        List<HttpFileServer> servers = cluster.servers();
        int n = servers.size();
        long[] in = new long[n];
        long[] out = new long[n];
        long[] failed = new long[n];
        long[] replayed = new long[n];
        long[] resent = new long[n];
        long[] duplicates = new long[n];
        for (int i = 0; i < n; i++) {
            HttpFileServer s = servers.get(i);
            for (MigrationEvent e : s.migrationEvents()) {
                if (!e.committed()) {
                    failed[i]++;
                } else if (e.role() == MigrationEvent.Role.DESTINATION) {
                    in[i]++;
                    replayed[i] += e.replayedBytes();
                    resent[i] += e.resentBytes();
                } else if (e.role() == MigrationEvent.Role.ORIGIN) {
                    out[i]++;
                }
            }
            duplicates[i] = s.statistics().duplicateBytesDropped();
        }
        long clientCommitted = clientSide.stream().filter(e -> e.getBoolean("committed")).count();
        long clientFailed = clientSide.size() - clientCommitted;
        Map<String, Long> initiations = new TreeMap<>();
        for (RecordedEvent e : clientSide) {
            initiations.merge(e.getString("initiation"), 1L, Long::sum);
        }

        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-50s", "counts of this download"));
        for (HttpFileServer s : servers) {
            header.append(String.format(Locale.ROOT, "%10s", s.name()));
        }
        console.println(header.append(String.format(Locale.ROOT, "%10s", "client")));
        row(console, "connections accepted (client: opened)", servers, HttpFileServer::sessionsStarted, "1");
        row(console, "migrations in (the session arrived here)", in, "-");
        row(console, "migrations out (the session moved away)", out, String.valueOf(clientCommitted));
        row(console, "migrations failed", failed, String.valueOf(clientFailed));
        row(console, "triggers sent (this server asked to move)", servers, HttpFileServer::triggersSent, "-");
        row(console, "request bytes replayed at the destination", replayed, "-");
        row(console, "response bytes sent again by the destination", resent, "-");
        row(console, "bytes sent again that this end had, dropped", duplicates,
                clientDuplicates < 0 ? "n/a" : String.valueOf(clientDuplicates));
        console.printf(Locale.ROOT, "client: %d migrations committed, %d failed, initiated by %s (JFR org.mtcp.Migration, role CLIENT);%n"
                + "  its duplicates from MtcpSocketImplFactory.statistics() (HttpURLConnection hides its socket)%n",
                clientCommitted, clientFailed, initiations);
    }

    private static void row(PrintStream console, String label, List<HttpFileServer> servers,
                            java.util.function.ToLongFunction<HttpFileServer> value, String client) {
        long[] values = servers.stream().mapToLong(value).toArray();
        row(console, label, values, client);
    }

    private static void row(PrintStream console, String label, long[] values, String client) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-48s", label));
        for (long v : values) {
            line.append(String.format(Locale.ROOT, "%10d", v));
        }
        console.println(line.append(String.format(Locale.ROOT, "%10s", client)));
    }

    /**
     * Installs the one line that makes unmodified {@code java.net.Socket} code migratory, once per
     * JVM (the JDK allows no second factory); later runs only change the destinations it covers.
     */
    @SuppressWarnings("deprecation") // deprecated in JDK 17, not for removal: the only hook into unmodified Socket code
    private static synchronized void makeMigratory(HttpCluster cluster) throws IOException {
        MTCP_SERVERS.clear();
        MTCP_SERVERS.addAll(cluster.serviceAddresses());
        if (!factoryInstalled) {
            MtcpSocketImplFactory f = new MtcpSocketImplFactory(MTCP_SERVERS::contains);
            Socket.setSocketImplFactory(f);
            factory = f;
            factoryInstalled = true;
        }
    }

    /** Called on a library thread: one short line per committed migration, as its destination saw it. */
    private static void printMigration(MigrationEvent e, HttpCluster cluster, AtomicInteger count, PrintStream console) {
        if (e.role() != MigrationEvent.Role.DESTINATION) {
            return;
        }
        if (e.committed()) {
            console.printf(Locale.ROOT, "  migration %d: %s -> %s, state %d B, %d B of the response sent again, %.2f ms at the destination%n",
                    count.incrementAndGet(), cluster.nameOf(e.from()), cluster.nameOf(e.to()), e.stateBytes(),
                    e.resentBytes(), e.totalNanos() / 1e6);
        } else {
            console.printf("  migration %s -> %s failed: %s%n", cluster.nameOf(e.from()), cluster.nameOf(e.to()),
                    e.failure().getMessage());
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
