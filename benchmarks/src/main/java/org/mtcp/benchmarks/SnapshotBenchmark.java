package org.mtcp.benchmarks;

import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one export ({@code accepted.setOption(MtcpOptions.APP_STATE, bytes)}, the thesis's
 * {@code export_state}) on an idle MTCP connection as the state grows, beside the cost of merely
 * copying the same bytes ({@code copy}: the floor of an export that must not share the caller's
 * array).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SnapshotBenchmark {

    /** Size in bytes of the exported state. */
    @Param({"0", "1024", "5120", "10240", "16384", "65536", "262144", "1048576"})
    public int stateBytes;

    private MtcpServerSocket server;
    private MtcpSocket client;
    private Socket accepted;
    private byte[] state;

    /**
     * One MTCP server, one connected client, the accepted socket held by the benchmark thread.
     *
     * @throws IOException when loopback fails
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        server = new MtcpServerSocket(0, 50, Net.LO);
        server.setSoTimeout(Net.SO_TIMEOUT_MS);
        // accept on another thread: the MTCP handshake may need the server side while connect() waits
        CompletableFuture<Socket> acceptance = CompletableFuture.supplyAsync(() -> {
            try {
                return server.accept();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        client = new MtcpSocket();
        client.setSoTimeout(Net.SO_TIMEOUT_MS);
        client.connect(Net.at(server.getLocalPort()));
        try {
            accepted = acceptance.get(Net.SO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IOException("accept failed", e);
        }
        state = StateApp.state(stateBytes);
    }

    /**
     * One export.
     *
     * @return the exported array
     * @throws IOException when the export fails
     */
    @Benchmark
    public byte[] export() throws IOException {
        accepted.setOption(MtcpOptions.APP_STATE, state);
        return state;
    }

    /** @return a copy of the state: what an export that copies its argument costs at least */
    @Benchmark
    public byte[] copy() {
        return Arrays.copyOf(state, state.length);
    }

    /** Closes everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        Acceptor.closeQuietly(accepted);
        Acceptor.closeQuietly(client);
        Acceptor.closeQuietly(server);
    }
}
