package org.mtcp.zookeeper;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Servers leave (closing, or their ZooKeeper session expiring) and join while the others run on: the
 * others drop or add them, and new clients are advertised the current members only.
 */
@Timeout(120)
class ChurnTest {
    private TestingServer zk;
    private final List<Node> nodes = new ArrayList<>();
    private final List<AutoCloseable> closeLast = new ArrayList<>();

    @BeforeEach
    void startZooKeeper() throws Exception {
        // a short tick, so that a session may be as short as 1 s (ZooKeeper bounds it to 2 to 20 ticks)
        zk = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
    }

    @AfterEach
    void stop() throws Exception {
        for (Node n : nodes) {
            n.close();
        }
        for (AutoCloseable c : closeLast) {
            c.close();
        }
        zk.close();
    }

    private Node node() throws IOException {
        Node n = new Node(r -> ZooKeeperMembership.builder(zk.getConnectString(), "cluster-b")
                .register(r.service(), r.control())
                .build());
        nodes.add(n);
        return n;
    }

    /** @return what a new client of {@code n} is advertised */
    private static Set<InetSocketAddress> advertisedToANewClient(Node n) throws IOException {
        try (MtcpSocket s = new MtcpSocket(n.service.getAddress(), n.service.getPort())) {
            return new HashSet<>(s.getOption(MtcpOptions.ADDITIONAL_SERVERS));
        }
    }

    @Test
    void aClosedServerIsDroppedAndANewOneAddedWithoutRestartingTheOthers() throws Exception {
        Node a = node();
        Node b = node();
        Node c = node();
        for (Node n : List.of(a, b, c)) {
            Waits.until(n.service + " follows a, b, c", () -> n.follows(a, b, c), n::describe);
        }
        assertEquals(Set.of(b.service, c.service), advertisedToANewClient(a));

        b.close();
        nodes.remove(b);
        for (Node n : List.of(a, c)) {
            Waits.until(n.service + " dropped the closed server", () -> n.follows(a, c), n::describe);
        }
        assertEquals(Set.of(c.service), advertisedToANewClient(a));

        Node d = node();
        for (Node n : List.of(a, c, d)) {
            Waits.until(n.service + " added the new server", () -> n.follows(a, c, d), n::describe);
        }
        assertEquals(Set.of(c.service, d.service), advertisedToANewClient(a));
        assertEquals(Set.of(a.service, d.service), advertisedToANewClient(c));
        for (Node n : nodes) {
            assertNull(n.appFailure.get());
        }
    }

    @Test
    void aServerWhoseSessionExpiresIsDroppedAndComesBackWithANewSession() throws Exception {
        Node a = node();
        Node b = node();
        // c reaches ZooKeeper through a relay the test cuts, with a 1 s session on a client of its own
        CuttableProxy relay = new CuttableProxy(new InetSocketAddress("127.0.0.1", zk.getPort()));
        closeLast.add(relay);
        CuratorFramework own = CuratorFrameworkFactory.builder()
                .connectString(relay.connectString())
                .sessionTimeoutMs(1_000)
                .connectionTimeoutMs(1_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3))
                .build();
        own.start();
        closeLast.add(own);
        Node c = new Node(r -> ZooKeeperMembership.builder(own, "cluster-b").register(r.service(), r.control()).build());
        nodes.add(c);
        for (Node n : List.of(a, b, c)) {
            Waits.until(n.service + " follows a, b, c", () -> n.follows(a, b, c), n::describe);
        }
        long session = own.getZookeeperClient().getZooKeeper().getSessionId();

        relay.cut(); // c can neither heartbeat nor reconnect: ZooKeeper expires its session, deleting its instance
        for (Node n : List.of(a, b)) {
            Waits.until(n.service + " dropped the server whose session expired", () -> n.follows(a, b), n::describe);
        }
        assertEquals(Set.of(b.service), advertisedToANewClient(a));
        assertTrue(c.follows(a, b, c), "cut off, c keeps its last list: " + c.describe());

        relay.restore(); // c's client gets a new session; Curator registers c again
        for (Node n : List.of(a, b, c)) {
            Waits.until(n.service + " follows a, b, c again", () -> n.follows(a, b, c), n::describe);
        }
        assertTrue(session != own.getZookeeperClient().getZooKeeper().getSessionId(), "a new session");
        assertEquals(Set.of(b.service, c.service), advertisedToANewClient(a));
    }
}
