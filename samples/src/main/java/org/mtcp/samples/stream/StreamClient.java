package org.mtcp.samples.stream;

import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MigrationPolicy;
import org.mtcp.client.MtcpSocket;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The stream client: an ordinary socket program on an {@link MtcpSocket}. It sends its request, reads
 * the stream checking every byte, and records the received offset against time together with the
 * server the session is on, which changes whenever the session migrates.
 */
public final class StreamClient implements Closeable {
    private final MtcpSocket socket;
    private final InputStream in;
    private final StreamRequest request;
    private final Function<SocketAddress, String> names;
    private final String tag;
    private final Consumer<String> log;
    private final long startNanos;
    private final List<TracePoint> trace = new ArrayList<>();
    private final List<MigrationMark> migrations = new CopyOnWriteArrayList<>();
    private final byte[] buffer = new byte[16 * 1024];
    private volatile long received;
    private long badBytes;
    private long firstBadOffset = -1;
    private long endNanos;

    /**
     * Connects, installs the policy and sends the request.
     *
     * @param server        the server to connect to
     * @param request       the stream to ask for
     * @param policy        the migration policy, or {@code null} to stay on the first server
     * @param names         names servers for the trace, from their service addresses
     * @param timeoutMillis longest wait for any read
     * @param tag           prefix of this client's log lines
     * @param log           where migrations are reported as they happen
     * @throws IOException when the connection or the request fails
     */
    public StreamClient(InetSocketAddress server, StreamRequest request, MigrationPolicy policy,
                        Function<SocketAddress, String> names, int timeoutMillis, String tag, Consumer<String> log)
            throws IOException {
        this.request = request;
        this.names = names;
        this.tag = tag;
        this.log = log;
        this.startNanos = System.nanoTime();
        this.socket = new MtcpSocket(server.getAddress(), server.getPort());
        try {
            socket.setSoTimeout(timeoutMillis);
            socket.addMigrationListener(this::onMigration);
            if (policy != null) {
                socket.setMigrationPolicy(policy);
            }
            in = socket.getInputStream();
            trace.add(new TracePoint(System.nanoTime() - startNanos, 0, currentServer()));
            socket.getOutputStream().write(request.encode());
            socket.getOutputStream().flush();
        } catch (IOException | RuntimeException e) {
            try {
                socket.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Downloads a whole stream, never throwing: whatever goes wrong is in the result.
     *
     * @param name          the run's name
     * @param stateBytes    the servers' application-state size, for the result
     * @param cluster       the servers; the client starts at the first
     * @param request       the stream to ask for
     * @param policy        the migration policy, or {@code null} for none
     * @param timeoutMillis longest wait for any read
     * @param log           progress lines
     * @return the outcome
     */
    public static RunResult download(String name, int stateBytes, StreamCluster cluster, StreamRequest request,
                                     MigrationPolicy policy, int timeoutMillis, Consumer<String> log) {
        long start = System.nanoTime();
        StreamClient client = null;
        String error = null;
        try {
            client = new StreamClient(cluster.entry(), request, policy, cluster::nameOf, timeoutMillis, name, log);
            client.receive(request.streamBytes());
        } catch (IOException | RuntimeException e) {
            error = e.toString();
        } finally {
            if (client != null) {
                try {
                    client.close();
                } catch (IOException e) {
                    error = error == null ? "close: " + e : error;
                }
            }
        }
        if (client == null) {
            return new RunResult(name, stateBytes, policy != null, request.streamBytes(), 0, 0, -1,
                    System.nanoTime() - start, List.of(), List.of(), error, List.of());
        }
        return client.result(name, stateBytes, policy != null, error);
    }

    /**
     * Reads and checks the stream until {@code offset} bytes have arrived (or the whole stream).
     *
     * @param offset how far to read
     * @throws IOException on a read error, a timeout, or the stream ending early
     */
    public void receive(long offset) throws IOException {
        long target = Math.min(offset, request.streamBytes());
        while (received < target) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, target - received));
            if (n < 0) {
                throw new EOFException("stream ended after " + received + " of " + request.streamBytes() + " bytes");
            }
            int bad = StreamContent.firstMismatch(buffer, 0, n, received);
            if (bad >= 0) {
                if (firstBadOffset < 0) {
                    firstBadOffset = received + bad;
                }
                badBytes += StreamContent.countMismatches(buffer, bad, n - bad, received + bad);
            }
            received += n;
            long now = System.nanoTime();
            endNanos = now;
            trace.add(new TracePoint(now - startNanos, received, currentServer()));
        }
    }

    /** @return the socket, e.g. to migrate explicitly */
    public MtcpSocket socket() {
        return socket;
    }

    /** @return the name of the server the session is on now */
    public String currentServer() {
        return names.apply(socket.getRemoteSocketAddress());
    }

    /** @return stream bytes received so far */
    public long received() {
        return received;
    }

    /**
     * @param name       the run's name
     * @param stateBytes the servers' application-state size
     * @param migrating  whether a policy was installed
     * @param error      what ended the download early, or {@code null}
     * @return the download so far as a result, with no server failures
     */
    public RunResult result(String name, int stateBytes, boolean migrating, String error) {
        long elapsed = (received > 0 ? endNanos : System.nanoTime()) - startNanos;
        return new RunResult(name, stateBytes, migrating, request.streamBytes(), received, badBytes, firstBadOffset,
                elapsed, trace, migrations, error, List.of());
    }

    /** Closes the socket: the servers take it as the end of the session. */
    @Override
    public void close() throws IOException {
        socket.close();
    }

    private void onMigration(MigrationEvent event) {
        // a library thread: record and print, nothing that blocks
        long now = System.nanoTime() - startNanos;
        long offset = received;
        MigrationMark mark = new MigrationMark(now, offset, names.apply(event.from()), names.apply(event.to()),
                event.committed(), event.committed() ? null : String.valueOf(event.failure()), event.totalNanos());
        migrations.add(mark);
        long count = migrations.stream().filter(MigrationMark::committed).count();
        log.accept(String.format(Locale.ROOT, "  [%s] at %8.1f ms, %8.1f KiB received: %s -> %s %s (client's migration time %.2f ms)",
                tag, mark.millis(), offset / 1024.0, mark.from(), mark.to(),
                mark.committed() ? "migrated, #" + count : "FAILED: " + mark.failure(),
                mark.migrationNanos() / 1e6));
    }
}
