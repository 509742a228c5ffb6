package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MigrationPolicy;
import org.mtcp.client.MtcpSocketFactory;
import org.mtcp.client.MtcpSocketImplFactory;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketImpl;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client policy without code: the sockets the factories make follow the policy the factory was given, each
 * socket with a policy of its own, so that code that only takes a factory migrates by itself.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FactoryPolicyTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    /** Moves to the first alternate once {@code after} bytes have arrived; one move per socket. */
    static final class MoveAfter implements MigrationPolicy {
        private final long after;
        private long seen;
        private boolean asked;

        MoveAfter(long after) {
            this.after = after;
        }

        @Override
        public InetSocketAddress onData(int bytes, long nanoTime, InetSocketAddress current, List<InetSocketAddress> alternates) {
            seen += bytes;
            if (!asked && seen >= after && !alternates.isEmpty()) {
                asked = true;
                return alternates.get(0);
            }
            return null;
        }
    }

    @Test
    void socketsOfASocketFactoryWithAPolicyMoveByThemselves() throws Exception {
        AtomicInteger made = new AtomicInteger();
        MtcpSocketFactory factory = new MtcpSocketFactory(() -> {
            made.incrementAndGet();
            return new MoveAfter(2000);
        });
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(32, 1));
             Socket a = factory.createSocket(LO, c.address(0).getPort());
             Socket b = factory.createSocket(LO, c.address(0).getPort())) {
            assertEquals(2, made.get(), "one policy per socket");
            for (Socket s : List.of(a, b)) {
                s.setSoTimeout(20_000);
                echoUntilOn(s, c.address(1), "the policy moved the socket");
            }
            c.assertNoAppFailure();
        }
    }

    @Test
    void socketsOfAnImplFactoryWithAPolicyMoveByThemselves() throws Exception {
        MtcpSocketImplFactory factory = new MtcpSocketImplFactory(x -> true, () -> new MoveAfter(2000));
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(32, 1));
             Socket s = new FactorySocket(factory.createSocketImpl())) {
            s.connect(c.address(0), 10_000);
            s.setSoTimeout(20_000);
            echoUntilOn(s, c.address(1), "the policy moved a plain java.net.Socket");
            assertTrue(factory.statistics().committed() >= 1, "counted: " + factory.statistics());
        }
    }

    /** Echoes (at most ten rounds) until the policy has moved {@code s} to {@code target}, then once more there. */
    private static void echoUntilOn(Socket s, InetSocketAddress target, String what) throws IOException, InterruptedException {
        long offset = 0;
        for (int round = 0; round < 10 && !target.equals(currentServer(s)); round++) {
            offset = Apps.echoRoundTrip(s, offset, 1000, "round " + round);
            Waits.until(() -> target.equals(currentServer(s)), Duration.ofMillis(200));
        }
        assertEquals(target, currentServer(s), what);
        Apps.echoRoundTrip(s, offset, 1000, "after the move");
    }

    /** What {@code Socket.setSocketImplFactory} does for every {@code new Socket()}, without making it JVM-wide. */
    private static final class FactorySocket extends Socket {
        FactorySocket(SocketImpl impl) throws IOException {
            super(impl);
        }
    }

    /** @return the server the socket is connected to now: a migration changes a socket's remote address */
    private static InetSocketAddress currentServer(Socket s) {
        return (InetSocketAddress) s.getRemoteSocketAddress();
    }
}
