package org.mtcp.samples.http;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * The standalone migratable file server, as {@code jwebserver} is the JDK's: {@link HttpFileServer}
 * on a chosen port and document root, cooperating with the peers named on the command line, up
 * until the JVM is stopped (Ctrl-C). Run it with
 * {@code ./mvnw -q -pl samples exec:java -Dexec.mainClass=org.mtcp.samples.http.HttpFileServer -Dexec.args="--port 8000"}.
 *
 * <p>Every cooperating server is known by its service address (where clients connect) and its
 * control address (where the servers pull a migrating session's state from each other, the
 * library's {@code CONTROL_MAPPINGS}); the peers are also advertised to this server's MTCP clients
 * as alternates ({@code ADDITIONAL_SERVERS}). By default a server's control port is its service
 * port + 1 on the same host.
 */
final class ServerCommand {
    static final int DEFAULT_PORT = 8000;

    static final String USAGE = String.join("\n",
            "usage: HttpFileServer [options]   (defaults in brackets)",
            "  --port N              port to listen on, 0 for any free one        [" + DEFAULT_PORT + "]",
            "  --bind ADDRESS        address to listen on, and this server's      [127.0.0.1]",
            "                        address in the peers' --peers lists",
            "  --root DIR            directory to serve                           [the current directory]",
            "  --peers H:P[=H:C],... cooperating servers (service address, and control",
            "                        address when it is not port + 1 on the same host)  [none]",
            "  --control PORT        this server's control port                   [port + 1]",
            "  --trigger-every MIB   ask each client to move to the next peer",
            "                        after every MIB this server sends it, 0 = never [0]",
            "  --rate MIB            cap on a response's speed, MiB/s, 0 = none   [0]",
            "  --help                this text");

    /**
     * The parsed command line.
     *
     * @param port         service port, 0 for an ephemeral one
     * @param bind         address to listen on
     * @param root         document root
     * @param peers        the other servers: service address to control address, in command-line order
     * @param controlPort  this server's control port, -1 for port + 1
     * @param triggerEvery bytes between triggers, 0 for none
     * @param rate         body bytes per second per response, 0 for no cap
     */
    record Options(int port, InetAddress bind, Path root, Map<InetSocketAddress, InetSocketAddress> peers,
                   int controlPort, long triggerEvery, long rate) {
        Options {
            peers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(peers));
        }

        /** @return this server's control port */
        int control(int boundPort) {
            return controlPort >= 0 ? controlPort : boundPort + 1;
        }
    }

    /** A command line that cannot be run: the message says why. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    private ServerCommand() {
    }

    /**
     * @param args the command line
     * @return the options, or {@code null} for {@code --help}
     * @throws UsageException for an unknown option, a missing or bad value
     */
    static Options parse(String... args) throws UsageException {
        int port = DEFAULT_PORT;
        InetAddress bind = InetAddress.getLoopbackAddress();
        Path root = Path.of("").toAbsolutePath();
        Map<InetSocketAddress, InetSocketAddress> peers = new LinkedHashMap<>();
        String peerList = null;
        int control = -1;
        long every = 0;
        long rate = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return null;
            }
            if (!List.of("--port", "--bind", "--root", "--peers", "--control", "--trigger-every", "--rate").contains(a)) {
                throw new UsageException("unknown option: " + a);
            }
            if (i + 1 == args.length) {
                throw new UsageException("missing value after " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--port" -> port = port(a, v, true);
                case "--bind" -> bind = address(a, v);
                case "--root" -> root = Path.of(v).toAbsolutePath();
                case "--peers" -> peerList = v;
                case "--control" -> control = port(a, v, false);
                case "--trigger-every" -> every = number(a, v) << 20;
                case "--rate" -> rate = number(a, v) << 20;
                default -> throw new AssertionError(a);
            }
        }
        if (!Files.isDirectory(root)) {
            throw new UsageException("not a directory: " + root);
        }
        if (peerList != null) {
            for (String peer : peerList.split(",")) {
                if (peer.isBlank()) {
                    continue;
                }
                String[] parts = peer.strip().split("=", 2);
                InetSocketAddress service = hostPort("--peers", parts[0]);
                InetSocketAddress controlAddress = parts.length == 2 ? hostPort("--peers", parts[1])
                        : new InetSocketAddress(service.getAddress(), service.getPort() + 1);
                peers.put(service, controlAddress);
            }
            if (!peers.isEmpty() && port == 0) {
                throw new UsageException("--peers needs a fixed --port: the peers name this server by it");
            }
            if (!peers.isEmpty() && bind.isAnyLocalAddress()) {
                throw new UsageException("--peers needs --bind with this server's address (the peers name it), not " + bind.getHostAddress());
            }
        }
        if (every > 0 && peers.isEmpty()) {
            throw new UsageException("--trigger-every needs --peers: where would the clients move?");
        }
        return new Options(port, bind, root, peers, control, every, rate);
    }

    /**
     * Starts a server as the options say (accepting, cooperating with its peers).
     *
     * @param o the options
     * @return the running server
     * @throws IOException when a port cannot be bound
     */
    static HttpFileServer start(Options o) throws IOException {
        TriggerPolicy policy = o.triggerEvery() > 0 ? TriggerPolicy.everyBytes(o.triggerEvery()) : TriggerPolicy.never();
        HttpFileServer server = new HttpFileServer("server", o.root(), o.bind(), o.port(), policy);
        try {
            server.setRateLimit(o.rate());
            if (!o.peers().isEmpty()) {
                InetSocketAddress self = server.serviceAddress();
                Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
                mappings.put(self, new InetSocketAddress(o.bind(), o.control(self.getPort())));
                mappings.putAll(o.peers());
                List<InetSocketAddress> alternates = new ArrayList<>(o.peers().keySet());
                server.cooperate(mappings, alternates);
                server.setTriggerTarget(alternates.get(0));
            }
            server.start();
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Parses, starts and waits until the JVM is stopped.
     *
     * @return the exit status: 2 for a bad command line, 1 when the server cannot start (it
     *         does not return otherwise)
     */
    static int run(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (UsageException e) {
            err.println(e.getMessage());
            err.println(USAGE);
            return 2;
        }
        if (o == null) {
            out.println(USAGE);
            return 0;
        }
        HttpFileServer server;
        try {
            server = start(o);
        } catch (IOException e) {
            err.println("cannot start: " + e.getMessage());
            return 1;
        }
        server.setLog(err::println);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (IOException e) {
                // the JVM is exiting anyway
            }
        }, "http-file-server-stop"));
        for (String line : banner(o, server)) {
            out.println(line);
        }
        out.flush();
        new CountDownLatch(1).await(); // until Ctrl-C: the shutdown hook closes the server
        return 0;
    }

    /** @return what the server prints when it is ready: where, its peers, a curl line to try */
    static List<String> banner(Options o, HttpFileServer server) {
        InetSocketAddress a = server.serviceAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "Serving %s on %s port %d (MTCP and plain HTTP clients); Ctrl-C stops it",
                o.root(), a.getAddress().getHostAddress(), a.getPort()));
        if (o.peers().isEmpty()) {
            lines.add("No peers: sessions stay here (--peers host:port,... to let them migrate)");
        } else {
            lines.add("Peers " + o.peers() + ", control port " + o.control(a.getPort())
                    + (o.triggerEvery() > 0 ? ", a client moves on every " + (o.triggerEvery() >> 20) + " MiB" : ""));
        }
        String file = firstFile(o.root()).map(f -> URLEncoder.encode(f, StandardCharsets.UTF_8).replace("+", "%20")).orElse("");
        lines.add("Try: curl -sS -o /dev/null -w '%{http_code} %{size_download} bytes\\n' http://" + host + ":" + a.getPort() + "/" + file);
        return lines;
    }

    private static Optional<String> firstFile(Path root) {
        try (Stream<Path> files = Files.list(root)) {
            return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int port(String option, String v, boolean zeroAllowed) throws UsageException {
        long n = number(option, v);
        if (n > 65535 || (n == 0 && !zeroAllowed)) {
            throw new UsageException("not a port after " + option + ": " + v);
        }
        return (int) n;
    }

    private static long number(String option, String v) throws UsageException {
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("not a number after " + option + ": " + v);
        }
    }

    private static InetAddress address(String option, String v) throws UsageException {
        try {
            return InetAddress.getByName(v);
        } catch (IOException e) {
            throw new UsageException("unknown host after " + option + ": " + v);
        }
    }

    private static InetSocketAddress hostPort(String option, String v) throws UsageException {
        int colon = v.lastIndexOf(':');
        if (colon <= 0) {
            throw new UsageException("not host:port after " + option + ": " + v);
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(address(option, host), port(option, v.substring(colon + 1), false));
    }
}
