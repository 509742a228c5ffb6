package org.mtcp.zookeeper;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.Member;
import org.mtcp.server.Membership;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One MTCP server on loopback for the tests: a transforming echo (byte i of the stream comes back as
 * {@link #transform}), its count exported after every read so that sessions migrate byte-exact, and a
 * {@link ZooKeeperMembership} registering it (service and a free loopback TCP control port), wrapped so
 * that the tests see every list it delivered.
 */
final class Node implements AutoCloseable {
    final MtcpServerSocket server;
    final InetSocketAddress service;
    final InetSocketAddress control;
    final ZooKeeperMembership zk;
    /** Every member list the membership delivered, in order. */
    final List<List<Member>> lists = new CopyOnWriteArrayList<>();
    final AtomicReference<Throwable> appFailure = new AtomicReference<>();
    private volatile boolean closing;

    /**
     * @param membership builds the membership from this node's service and control addresses
     */
    Node(Function<Registration, ZooKeeperMembership> membership) throws IOException {
        InetAddress lo = InetAddress.getLoopbackAddress();
        server = new MtcpServerSocket(0, 50, lo);
        service = new InetSocketAddress(lo, server.getLocalPort());
        try (ServerSocket free = new ServerSocket(0, 1, lo)) {
            control = new InetSocketAddress(lo, free.getLocalPort());
        }
        zk = membership.apply(new Registration(service, control));
        Thread t = new Thread(this::acceptLoop, "test-accept-" + service.getPort());
        t.setDaemon(true);
        try {
            server.setMembership(new Recording(zk, lists::add));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        t.start();
    }

    /** This node's addresses, for the membership's registration. */
    record Registration(InetSocketAddress service, InetSocketAddress control) {
    }

    /** The service addresses of the members in the last list delivered, or an empty set. */
    Set<InetSocketAddress> lastMembers() {
        Set<InetSocketAddress> s = new HashSet<>();
        if (!lists.isEmpty()) {
            for (Member m : lists.get(lists.size() - 1)) {
                s.add(m.service());
            }
        }
        return s;
    }

    /** @return whether this server's control mappings are exactly {@code nodes}' and its alternates the others */
    boolean follows(Node... nodes) throws IOException {
        Map<InetSocketAddress, SocketAddress> expected = new java.util.HashMap<>();
        Set<InetSocketAddress> others = new HashSet<>();
        for (Node n : nodes) {
            expected.put(n.service, n.control);
            if (n != this) {
                others.add(n.service);
            }
        }
        return expected.equals(server.getOption(MtcpOptions.CONTROL_MAPPINGS))
                && others.equals(new HashSet<>(server.getOption(MtcpOptions.ADDITIONAL_SERVERS)))
                && server.getOption(MtcpOptions.ADDITIONAL_SERVERS).size() == others.size();
    }

    /** @return what this server's state says, for failure messages */
    String describe() throws IOException {
        return service + ": mappings " + server.getOption(MtcpOptions.CONTROL_MAPPINGS) + ", alternates "
                + server.getOption(MtcpOptions.ADDITIONAL_SERVERS) + ", lists delivered " + lists.size();
    }

    static byte transform(byte b, long i) {
        return (byte) (b ^ (i * 31 + 7));
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread w = new Thread(() -> serve(c), "test-app-" + service.getPort());
            w.setDaemon(true);
            w.start();
        }
    }

    private void serve(Socket s) {
        try (s) {
            byte[] st = s.getOption(MtcpOptions.APP_STATE);
            long n = st.length == 0 ? 0 : ByteBuffer.wrap(st).getLong();
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[8192];
            while (true) {
                int r = in.read(buf);
                if (r < 0) {
                    s.shutdownOutput();
                    return;
                }
                for (int k = 0; k < r; k++) {
                    buf[k] = transform(buf[k], n + k);
                }
                out.write(buf, 0, r);
                n += r;
                s.setOption(MtcpOptions.APP_STATE, ByteBuffer.allocate(8).putLong(n).array());
            }
        } catch (ConnectionMigratedException e) {
            // the destination serves on
        } catch (IOException e) {
            if (!(e.getCause() instanceof ConnectionMigratedException) && !closing) {
                appFailure.compareAndSet(null, e);
            }
        } catch (RuntimeException e) {
            appFailure.compareAndSet(null, e);
        }
    }

    @Override
    public void close() throws IOException {
        closing = true;
        server.close(); // closes the membership too
    }

    /** A membership that also hands every list to a recorder. */
    private static final class Recording implements Membership {
        private final Membership delegate;
        private final Consumer<List<Member>> recorder;

        Recording(Membership delegate, Consumer<List<Member>> recorder) {
            this.delegate = delegate;
            this.recorder = recorder;
        }

        @Override
        public void watch(Consumer<List<Member>> listener) throws IOException {
            delegate.watch(list -> {
                listener.accept(list);
                recorder.accept(list);
            });
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
