package org.mtcp.benchmarks;

import org.mtcp.api.MtcpOptions;
import org.mtcp.internal.buffer.ChunkPool;
import org.mtcp.server.MtcpServerSocket;

import com.sun.management.GcInfo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The server end of {@link IdleCostBenchmark} and {@link IdleSessionsBenchmark}, run in a JVM of its
 * own so that each end's memory is measured alone. One accept thread accepts every connection, reads
 * the client's first byte, echoes it, exports an 8-byte state (MTCP), and keeps the socket in a list: no
 * thread per session, nothing read or written afterwards (the sessions are idle).
 *
 * <p>An MTCP server is set up as {@link MtcpCluster}'s one-server case (a control mapping, no
 * alternates); nothing else is tuned. Commands, one a line on standard input, each answered by one
 * line on standard output starting with {@value #PREFIX}:
 * <ul>
 *   <li>{@code measure}: {@link Usage#measure()} of this JVM and the number of sessions held;</li>
 *   <li>{@code drop K}: closes every held session but the first {@code K};</li>
 *   <li>{@code quit}, or the end of standard input (the benchmark JVM is gone): closes everything (waiting at most 10 s) and exits.</li>
 * </ul>
 * The first line, {@code PREFIX ready port=P nofile=N}, gives the service port and this JVM's open-file limit.
 *
 * <p>Usage: {@code java -cp benchmarks.jar org.mtcp.benchmarks.IdleServer mtcp|plain}
 */
public final class IdleServer {
    /** Start of every answer line. */
    public static final String PREFIX = "idle-server";
    /** The state an MTCP session exports after its echo: 8 bytes, like the stream server's offset. */
    private static final byte[] STATE = new byte[8];

    private final ServerSocket server;
    private final ArrayList<Socket> held = new ArrayList<>();
    private volatile boolean closing;

    private IdleServer(ServerSocket server) {
        this.server = server;
    }

    /**
     * @param args {@code mtcp} or {@code plain}
     * @throws IOException when the server cannot be started
     */
    public static void main(String[] args) throws IOException {
        boolean mtcp = args.length > 0 && "mtcp".equals(args[0]);
        ServerSocket s;
        if (mtcp) {
            MtcpServerSocket m = new MtcpServerSocket(0, 50, Net.LO);
            InetSocketAddress service = Net.at(m.getLocalPort());
            Map<InetSocketAddress, SocketAddress> mappings = Map.of(service, Net.at(Net.freePorts(1)[0]));
            m.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            m.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of());
            s = m;
        } else {
            s = new ServerSocket(0, 50, Net.LO);
        }
        IdleServer idle = new IdleServer(s);
        Thread acceptor = new Thread(idle::acceptLoop, "idle-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Usage.measure(); // settles: the first collections of a JVM leave more behind than the later ones
        out.println(PREFIX + " ready port=" + s.getLocalPort() + " nofile=" + Usage.openFileLimit());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            if ("measure".equals(w[0])) {
                Usage u = Usage.measure();
                out.println(PREFIX + " " + u.format() + " held=" + idle.size());
            } else if ("drop".equals(w[0])) {
                idle.drop(Integer.parseInt(w[1]));
                out.println(PREFIX + " dropped held=" + idle.size());
            } else if ("quit".equals(w[0])) {
                break;
            } else {
                out.println(PREFIX + " error unknown command: " + line);
            }
        }
        // the client ends are closed already: closing here is a courtesy, bounded so that the JVM always ends
        idle.closing = true;
        long start = System.nanoTime();
        Thread closer = new Thread(() -> {
            Acceptor.closeQuietly(s);
            idle.drop(0);
        }, "idle-close");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            System.err.printf("idle-server: closing the server and its sessions took over %.0f s: exiting anyway%n",
                    (System.nanoTime() - start) / 1e9);
        }
        out.println(PREFIX + " bye");
        System.exit(0);
    }

    private void acceptLoop() {
        while (!closing) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!closing) {
                    System.err.println("idle-server: accept failed: " + e);
                }
                return;
            }
            try {
                s.setSoTimeout(Net.SO_TIMEOUT_MS);
                int b = s.getInputStream().read();
                if (b < 0) {
                    throw new IOException("end of stream before the first byte");
                }
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                if (s.supportedOptions().contains(MtcpOptions.APP_STATE)) {
                    // what a migratable server does after serving a request: export its state, which also
                    // ends the read log (without it the byte read holds a 16 KiB chunk until the next export)
                    s.setOption(MtcpOptions.APP_STATE, STATE);
                }
                synchronized (held) {
                    held.add(s);
                }
            } catch (IOException e) {
                if (!closing) {
                    System.err.println("idle-server: session " + s + " failed its echo: " + e);
                }
                Acceptor.closeQuietly(s);
            }
        }
    }

    private int size() {
        synchronized (held) {
            return held.size();
        }
    }

    private void drop(int keep) {
        List<Socket> gone;
        synchronized (held) {
            int k = Math.min(keep, held.size());
            gone = new ArrayList<>(held.subList(k, held.size()));
            held.subList(k, held.size()).clear();
            held.trimToSize();
        }
        for (Socket s : gone) {
            Acceptor.closeQuietly(s);
        }
    }

    /**
     * What one JVM uses: heap and direct buffers after full collections, and its threads.
     *
     * <p>The library keeps up to 1024 free 16 KiB direct chunks in a process-wide pool
     * ({@code org.mtcp.internal.buffer.ChunkPool}, {@code -Dmtcp.pooledChunks}); they belong to no session,
     * and how full the pool is depends on what ran before, so {@link #sessionBytes()} leaves them out.
     *
     * @param heap        heap bytes in use after the last of several {@code System.gc()}, as that collection reports it
     * @param direct      bytes of direct buffers ({@link BufferPoolMXBean} {@code "direct"}), free pooled chunks included
     * @param pooled      free chunks in the library's pool
     * @param threads     threads of the process ({@code /proc/self/task}: Java threads, GC and JIT threads)
     * @param javaThreads live Java threads ({@link java.lang.management.ThreadMXBean})
     */
    public record Usage(long heap, long direct, long pooled, long threads, long javaThreads) {
        /** @return heap + direct bytes, free pooled chunks left out */
        public long sessionBytes() {
            return heap + sessionDirect();
        }

        /** @return direct bytes, free pooled chunks left out */
        public long sessionDirect() {
            return direct - pooled * ChunkPool.shared().chunkSize();
        }

        /**
         * Collects (several full collections, pauses for the cleaners of direct buffers) and measures.
         *
         * @return this JVM's usage now
         */
        public static Usage measure() {
            for (int i = 0; i < 4; i++) {
                System.gc();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            long heap = heapAfterLastGc();
            long direct = 0;
            for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if ("direct".equals(b.getName())) {
                    direct = b.getMemoryUsed();
                }
            }
            return new Usage(heap, direct, ChunkPool.shared().pooled(), tasks(),
                    ManagementFactory.getThreadMXBean().getThreadCount());
        }

        /** @return the fields as {@code key=value} words */
        public String format() {
            return "heap=" + heap + " direct=" + direct + " pooled=" + pooled + " threads=" + threads
                    + " javaThreads=" + javaThreads;
        }

        /**
         * @param words a {@link #format()} line (other words are ignored)
         * @return the usage it gives
         */
        public static Usage parse(String words) {
            long[] v = new long[5];
            String[] keys = {"heap=", "direct=", "pooled=", "threads=", "javaThreads="};
            for (String w : words.split(" ")) {
                for (int k = 0; k < keys.length; k++) {
                    if (w.startsWith(keys[k])) {
                        v[k] = Long.parseLong(w.substring(keys[k].length()));
                    }
                }
            }
            return new Usage(v[0], v[1], v[2], v[3], v[4]);
        }

        /**
         * The heap in use right after the last collection, by the collector's own account: the heap's
         * use now would count the thread-local allocation buffers handed out since (with a large heap
         * one is tens of MB).
         */
        private static long heapAfterLastGc() {
            Set<String> heapPools = new HashSet<>();
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == MemoryType.HEAP) {
                    heapPools.add(p.getName());
                }
            }
            GcInfo last = null;
            for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (g instanceof com.sun.management.GarbageCollectorMXBean) {
                    GcInfo i = ((com.sun.management.GarbageCollectorMXBean) g).getLastGcInfo();
                    if (i != null && (last == null || i.getEndTime() > last.getEndTime())) {
                        last = i;
                    }
                }
            }
            if (last == null) {
                return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            }
            long used = 0;
            for (Map.Entry<String, MemoryUsage> e : last.getMemoryUsageAfterGc().entrySet()) {
                if (heapPools.contains(e.getKey())) {
                    used += e.getValue().getUsed();
                }
            }
            return used;
        }

        private static long tasks() {
            Path task = Paths.get("/proc/self/task");
            if (!Files.isDirectory(task)) {
                return -1;
            }
            try (Stream<Path> s = Files.list(task)) {
                return s.count();
            } catch (IOException e) {
                return -1;
            }
        }

        /** @return this process's soft limit of open files ({@code /proc/self/limits}), -1 if unknown */
        public static long openFileLimit() {
            try {
                for (String l : Files.readAllLines(Paths.get("/proc/self/limits"))) {
                    if (l.startsWith("Max open files")) {
                        String[] f = l.substring("Max open files".length()).trim().split("\\s+");
                        return "unlimited".equals(f[0]) ? Long.MAX_VALUE : Long.parseLong(f[0]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                return -1;
            }
            return -1;
        }
    }
}
