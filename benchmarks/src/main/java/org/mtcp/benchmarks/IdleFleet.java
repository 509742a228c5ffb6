package org.mtcp.benchmarks;

import org.mtcp.benchmarks.IdleServer.Usage;
import org.mtcp.client.MtcpSocket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Idle sessions between this JVM (the client ends) and an {@link IdleServer} in a child JVM (the
 * server ends), for {@link IdleCostBenchmark} and {@link IdleSessionsBenchmark}.
 *
 * <p>Each session is a {@link MtcpSocket} (or a plain {@link Socket}) with the library's defaults
 * and the benchmarks' read timeout, bound to one of {@value #LOCAL_ADDRESSES} loopback addresses
 * (127.0.0.2 and up, in turn) before it connects, so that the ephemeral ports of one address pair
 * (about 28,000) do not limit the count; it sends one byte, reads it back, and is left alone.
 *
 * <p>The open-file limit of both JVMs is raised to {@value #NOFILE} with {@code prlimit} (this JVM by
 * its pid, the child at its start); where that is refused (not root), both keep theirs and
 * {@link #capacity()} says how many sessions fit.
 */
public final class IdleFleet implements AutoCloseable {
    /** Loopback source addresses the clients are spread over. */
    public static final int LOCAL_ADDRESSES = 8;
    /** Open-file limit asked for both JVMs. */
    public static final int NOFILE = 250_000;
    /** Descriptors kept free for the JVMs' own files and the server's listening and control sockets. */
    private static final int FD_MARGIN = 500;

    private final boolean mtcp;
    private final Process child;
    private final BufferedReader fromChild;
    private final PrintWriter toChild;
    private final InetSocketAddress service;
    private final InetAddress[] locals = new InetAddress[LOCAL_ADDRESSES];
    private final List<Socket> kept = new ArrayList<>();
    private final ArrayList<Socket> batch = new ArrayList<>();
    private final long capacity;
    private final boolean raised;
    private final Thread exitHook;
    private int opened;

    /**
     * Starts the server JVM (same {@code java}, same class path) and raises the open-file limits.
     *
     * @param mtcp    MTCP sessions, or plain TCP connections
     * @param jvmArgs the server JVM's options (its heap)
     * @throws IOException when the server does not start
     */
    public IdleFleet(boolean mtcp, String... jvmArgs) throws IOException {
        this.mtcp = mtcp;
        for (int i = 0; i < LOCAL_ADDRESSES; i++) {
            locals[i] = InetAddress.getByAddress(new byte[]{127, 0, 0, (byte) (2 + i)});
        }
        raised = prlimit(List.of("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()),
                "--nofile=" + NOFILE + ":" + NOFILE));
        List<String> cmd = new ArrayList<>();
        if (raised) {
            cmd.addAll(List.of("prlimit", "--nofile=" + NOFILE + ":" + NOFILE));
        }
        cmd.add(ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + "/bin/java"));
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), IdleServer.class.getName(),
                mtcp ? "mtcp" : "plain"));
        child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        exitHook = new Thread(child::destroyForcibly, "idle-server-reaper");
        Runtime.getRuntime().addShutdownHook(exitHook);
        fromChild = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        toChild = new PrintWriter(new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8), true);
        boolean ok = false;
        try {
            String ready = answer();
            service = Net.at(Integer.parseInt(word(ready, "port=")));
            long serverLimit = Long.parseLong(word(ready, "nofile="));
            long ownLimit = Usage.openFileLimit();
            capacity = Math.max(0, Math.min(serverLimit, ownLimit) - FD_MARGIN);
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    private static boolean prlimit(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                System.err.println("idle: " + String.join(" ", cmd) + " failed (" + out
                        + "): the open-file limits stay as they are");
                return false;
            }
            return true;
        } catch (IOException e) {
            System.err.println("idle: cannot run prlimit (" + e + "): the open-file limits stay as they are");
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** @return whether {@code prlimit} raised both JVMs' open-file limits to {@value #NOFILE} */
    public boolean limitsRaised() {
        return raised;
    }

    /** @return how many sessions the two JVMs' open-file limits allow */
    public long capacity() {
        return capacity;
    }

    /**
     * @param wanted sessions wanted in a batch
     * @return {@code wanted}, or fewer when the open-file limits allow fewer (said on standard error)
     */
    public int batchSize(int wanted) {
        long room = capacity - size();
        if (wanted <= room) {
            return wanted;
        }
        int n = (int) Math.max(0, room);
        System.err.println("idle: the open-file limits allow " + n + " more sessions, not " + wanted
                + (raised ? "" : " (prlimit refused to raise them)"));
        return n;
    }

    /**
     * Opens sessions that stay open until {@link #close()}: they are part of every baseline.
     *
     * @param n how many
     * @throws IOException when one cannot be opened or does not echo
     */
    public void openKept(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            kept.add(openOne());
        }
    }

    /**
     * Opens a batch of sessions, each established and idle when this returns.
     *
     * @param n how many
     * @throws IOException when one cannot be opened or does not echo
     */
    public void openBatch(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            batch.add(openOne());
        }
    }

    private Socket openOne() throws IOException {
        Socket s = mtcp ? new MtcpSocket() : new Socket();
        try {
            s.setSoTimeout(Net.SO_TIMEOUT_MS);
            s.bind(new InetSocketAddress(locals[opened % LOCAL_ADDRESSES], 0));
            s.connect(service);
            Net.ping(s);
        } catch (IOException e) {
            Acceptor.closeQuietly(s);
            throw new IOException("idle: session " + (kept.size() + batch.size() + 1) + " failed: " + e, e);
        }
        opened++;
        return s;
    }

    /** @return sessions open now (kept and batch) */
    public int size() {
        return kept.size() + batch.size();
    }

    /**
     * Closes the batch, client ends first, then the server ends.
     *
     * @throws IOException when the server does not answer
     */
    public void closeBatch() throws IOException {
        for (Socket s : batch) {
            Acceptor.closeQuietly(s);
        }
        batch.clear();
        batch.trimToSize();
        command("drop " + kept.size());
    }

    /** @return this JVM's usage (the client ends), after full collections */
    public Usage measureClient() {
        return Usage.measure();
    }

    /**
     * @return the server JVM's usage, after full collections there
     * @throws IOException when the server does not answer or holds fewer sessions than are open here
     */
    public Usage measureServer() throws IOException {
        String a = command("measure");
        int held = Integer.parseInt(word(a, "held="));
        if (held != size()) {
            throw new IOException("idle: the server holds " + held + " sessions, " + size() + " are open: " + a);
        }
        return Usage.parse(a);
    }

    private String command(String c) throws IOException {
        toChild.println(c);
        if (toChild.checkError()) {
            throw new IOException("idle: the server JVM is gone");
        }
        return answer();
    }

    private String answer() throws IOException {
        String line;
        while ((line = fromChild.readLine()) != null) {
            if (line.startsWith(IdleServer.PREFIX + " ")) {
                if (line.startsWith(IdleServer.PREFIX + " error")) {
                    throw new IOException("idle: " + line);
                }
                return line;
            }
            System.out.println(line); // not an answer: whatever the server JVM printed
        }
        throw new IOException("idle: the server JVM ended");
    }

    private static String word(String line, String key) throws IOException {
        for (String w : line.split(" ")) {
            if (w.startsWith(key)) {
                return w.substring(key.length());
            }
        }
        throw new IOException("idle: no " + key + " in '" + line + "'");
    }

    /** @return the server JVM's pid */
    public long serverPid() {
        return child.pid();
    }

    /** Closes every session, stops the server JVM (forcibly after 30 s) and waits for it. */
    @Override
    public void close() {
        for (Socket s : batch) {
            Acceptor.closeQuietly(s);
        }
        for (Socket s : kept) {
            Acceptor.closeQuietly(s);
        }
        batch.clear();
        kept.clear();
        try {
            toChild.println("quit");
            if (!child.waitFor(30, TimeUnit.SECONDS)) {
                System.err.println("idle: the server JVM did not quit: destroyed");
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            child.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(exitHook);
            } catch (IllegalStateException e) {
                // shutting down already: the hook runs
            }
        }
    }
}
