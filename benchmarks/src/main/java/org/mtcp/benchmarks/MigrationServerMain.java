package org.mtcp.benchmarks;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One MTCP server of a pair, in its own JVM, for {@link FreshJvmMigrationBenchmark}: binds the service port
 * of server {@code index} on loopback, maps both servers' service addresses to their control ports
 * ({@code CONTROL_MAPPINGS}), advertises the other ({@code ADDITIONAL_SERVERS}), serves {@link StreamingApp},
 * prints {@code ready} on standard output, and runs until its standard input ends (the parent closed it or
 * died), then exits. Library defaults otherwise. Every migration event of the server is printed as one line,
 * {@code event ROLE committed totalUs PHASE=us ...}, from a separate thread (not the library's). One setting
 * besides the defaults: {@code CONTROL_OPEN_AHEAD}, which the README tells a deploy's servers to set (the servers
 * of a drain take sessions soon after they start); system property {@value #CONTROL_OPEN_AHEAD} {@code =false}
 * measures the thesis's lazy open instead.
 *
 * <p>An experiment, off by default: system property {@value #WARMUP} = N first runs N migrations of an idle session
 * between two throwaway servers inside this JVM (an {@link MtcpCluster} and a client, closed before the server
 * binds), to measure what a warm-up at bind would save. Pass it through
 * {@link FreshJvmMigrationBenchmark#SERVER_JVM_ARGS}.
 *
 * <p>Usage: {@code MigrationServerMain index service0 control0 service1 control1}
 */
public final class MigrationServerMain {
    /** System property: migrations of a throwaway pair inside this JVM before the server binds (default 0). */
    public static final String WARMUP = "mtcp.bench.serverWarmup";
    /** System property: {@code false} leaves {@code CONTROL_OPEN_AHEAD} off (default {@code true}). */
    public static final String CONTROL_OPEN_AHEAD = "mtcp.bench.controlOpenAhead";

    private MigrationServerMain() {
    }

    /** Migrates an idle session back and forth {@code n} times between two throwaway servers in this JVM. */
    private static void warmUp(int n) throws IOException {
        try (MtcpCluster pair = new MtcpCluster(2, new StreamingApp());
             org.mtcp.client.MtcpSocket c = new org.mtcp.client.MtcpSocket(Net.LO, pair.service(0).getPort())) {
            c.setSoTimeout(Net.SO_TIMEOUT_MS);
            c.getOutputStream().write(StreamingApp.IDLE);
            Net.ping(c);
            for (int i = 0; i < n; i++) {
                c.migrate(pair.service((i + 1) % 2));
                Net.ping(c);
            }
        }
    }

    /**
     * @param args {@code index service0 control0 service1 control1}
     * @throws IOException when the server cannot be started
     */
    public static void main(String[] args) throws IOException {
        int index = Integer.parseInt(args[0]);
        int[] service = {Integer.parseInt(args[1]), Integer.parseInt(args[3])};
        int[] control = {Integer.parseInt(args[2]), Integer.parseInt(args[4])};
        PrintStream out = System.out;
        BlockingQueue<MigrationEvent> events = new LinkedBlockingQueue<>();
        Thread printer = new Thread(() -> {
            try {
                while (true) {
                    MigrationEvent e = events.take();
                    StringBuilder sb = new StringBuilder("event ").append(e.role()).append(' ')
                            .append(e.committed() ? "committed " : "failed ").append(e.totalNanos() / 1000);
                    e.phaseNanos().forEach((p, n) -> sb.append(' ').append(p).append('=').append(n / 1000));
                    out.println(sb);
                    out.flush();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-event-printer");
        printer.setDaemon(true);
        printer.start();
        int warmup = Integer.getInteger(WARMUP, 0);
        if (warmup > 0) {
            warmUp(warmup);
        }
        MtcpServerSocket server = new MtcpServerSocket(service[index], 50, Net.LO);
        Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
        for (int i = 0; i < 2; i++) {
            mappings.put(Net.at(service[i]), Net.at(control[i]));
        }
        server.setOption(MtcpOptions.CONTROL_OPEN_AHEAD,
                Boolean.parseBoolean(System.getProperty(CONTROL_OPEN_AHEAD, "true")));
        server.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
        server.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(Net.at(service[1 - index])));
        server.addMigrationListener(events::add);
        Acceptor acceptor = new Acceptor(server, new StreamingApp());
        out.println("ready");
        out.flush();
        while (System.in.read() >= 0) {
            // until the parent closes our input or dies
        }
        acceptor.close();
        System.exit(0);
    }
}
