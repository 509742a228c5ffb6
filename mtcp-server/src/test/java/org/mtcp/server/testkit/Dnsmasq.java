package org.mtcp.server.testkit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.naming.CommunicationException;
import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/**
 * A real DNS server for tests: Debian's {@code dnsmasq} as a child process on 127.0.0.1 and a port
 * of its own, serving the records given on its command line, authoritative for {@value #DOMAIN}
 * (a name there that it does not have is NXDOMAIN). dnsmasq rereads only host files on SIGHUP, not
 * SRV records, so {@link #restart(List)} changes the records: a new process on the same port.
 *
 * <p>Without dnsmasq the test is skipped locally with how to install it, and fails when {@code CI=true}
 * ({@code .ci/run} installs it).
 */
public final class Dnsmasq implements AutoCloseable {
    /** The domain it answers for. */
    public static final String DOMAIN = "cluster.test";

    private final Path binary;
    private final int port;
    private final Path log;
    private Process process;

    private Dnsmasq(Path binary, int port) throws IOException {
        this.binary = binary;
        this.port = port;
        Path dir = Files.createDirectories(Path.of("target", "dnsmasq"));
        this.log = dir.resolve("dnsmasq-" + port + ".log");
    }

    /** @return an SRV record option: {@code name} has a record with {@code target} and {@code port} */
    public static String srv(String name, String target, int port) {
        return "--srv-host=" + name + "," + target + "," + port;
    }

    /** @return an SRV record option with a priority */
    public static String srv(String name, String target, int port, int priority) {
        return srv(name, target, port) + "," + priority;
    }

    /** @return an A (or AAAA) record option */
    public static String host(String name, InetAddress address) {
        return "--host-record=" + name + "," + address.getHostAddress();
    }

    /**
     * Starts dnsmasq on a free port with {@code records} (options as {@link #srv} and {@link #host} make).
     */
    public static Dnsmasq start(List<String> records) throws IOException, InterruptedException {
        Path binary = binary();
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            Dnsmasq d = new Dnsmasq(binary, freePort());
            try {
                d.launch(records);
                return d;
            } catch (IOException e) { // e.g. the port was taken meanwhile
                last = e;
                d.stop();
            }
        }
        throw last;
    }

    private static Path binary() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "dnsmasq"))) {
                return Path.of(dir, "dnsmasq");
            }
        }
        String message = "dnsmasq is not installed: these tests run a real DNS server (apt-get install -y dnsmasq;"
                + " .ci/run installs it when it runs as root)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
        throw new AssertionError(message);
    }

    /** @return a port free for both UDP and TCP on 127.0.0.1 (dnsmasq listens on both) */
    private static int freePort() throws IOException {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        for (int i = 0; i < 20; i++) {
            try (DatagramSocket u = new DatagramSocket(new InetSocketAddress(lo, 0))) {
                int p = u.getLocalPort();
                try (ServerSocket t = new ServerSocket(p, 1, lo)) {
                    return t.getLocalPort();
                } catch (IOException taken) {
                    // TCP side in use: another
                }
            }
        }
        throw new IOException("no port free for both UDP and TCP on 127.0.0.1");
    }

    private void launch(List<String> records) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--no-daemon", "--conf-file=/dev/null", "--port=" + port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts", "--pid-file=",
                "--local=/" + DOMAIN + "/", "--log-queries"));
        cmd.addAll(records);
        Files.writeString(log, "$ " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!answers()) {
            if (!process.isAlive()) {
                throw new IOException("dnsmasq on port " + port + " exited with " + process.exitValue() + ": " + logText());
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("dnsmasq on port " + port + " does not answer after 10 s: " + logText());
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** @return whether a query gets an answer (NXDOMAIN for a name it does not have) */
    private boolean answers() {
        Hashtable<String, String> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        env.put(Context.PROVIDER_URL, "dns://127.0.0.1:" + port);
        env.put("com.sun.jndi.dns.timeout.initial", "200");
        env.put("com.sun.jndi.dns.timeout.retries", "1");
        try {
            DirContext ctx = new InitialDirContext(env);
            try {
                ctx.getAttributes("probe." + DOMAIN + ".", new String[] {"A"});
                return true;
            } finally {
                ctx.close();
            }
        } catch (NameNotFoundException e) {
            return true;
        } catch (CommunicationException e) {
            return false;
        } catch (NamingException e) {
            return true; // an error answer is an answer
        }
    }

    /** Replaces the records: stops this dnsmasq and starts one with {@code records} on the same port. */
    public void restart(List<String> records) throws IOException, InterruptedException {
        stop();
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                launch(records);
                return;
            } catch (IOException e) {
                last = e;
                stop();
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
        throw last;
    }

    /** Stops the server: queries to its port get no answer until {@link #restart}. */
    public void stop() throws InterruptedException {
        Process p = process;
        if (p == null) {
            return;
        }
        if (p.isAlive()) {
            try {
                signal("-CONT"); // a paused one would not act on SIGTERM
            } catch (IOException e) {
                // it ended meanwhile
            }
        }
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        process = null;
    }

    /** Freezes the server (SIGSTOP): its port stays bound, queries get no answer, they time out. */
    public void pause() throws IOException, InterruptedException {
        signal("-STOP");
    }

    /** Lets a {@link #pause paused} server answer again (SIGCONT). */
    public void resume() throws IOException, InterruptedException {
        signal("-CONT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill " + signal + " " + process.pid() + " failed: "
                    + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** @return where it listens */
    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** @return its log so far (command lines, queries and answers) */
    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** @return how long a test waits at most for a refresh to show */
    public static Duration patience() {
        return Duration.ofSeconds(20);
    }

    /** Stops the server (as {@link #stop}); interrupted, kills it at once and keeps the interrupt. */
    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Process p = process;
            if (p != null) {
                p.destroyForcibly();
            }
            Thread.currentThread().interrupt();
        }
    }
}
