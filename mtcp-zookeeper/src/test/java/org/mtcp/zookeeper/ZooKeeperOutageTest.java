package org.mtcp.zookeeper;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ZooKeeper stops and comes back: the servers keep their last member list meanwhile, then follow changes again. */
@Timeout(120)
class ZooKeeperOutageTest {
    private TestingServer zk;
    private final List<Node> nodes = new ArrayList<>();
    private CuratorFramework own;

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterEach
    void stop() throws IOException {
        for (Node n : nodes) {
            n.close();
        }
        if (own != null) {
            own.close();
        }
        zk.close();
    }

    private Node node() throws IOException {
        Node n = new Node(r -> ZooKeeperMembership.builder(zk.getConnectString(), "cluster-c")
                .register(r.service(), r.control())
                .build());
        nodes.add(n);
        return n;
    }

    @Test
    void theLastListStaysWhileZooKeeperIsDownAndUpdatesResumeAfterItRestarts() throws Exception {
        // a on a client the test watches (to know when the outage is noticed), b on one of its own
        own = CuratorFrameworkFactory.builder()
                .connectString(zk.getConnectString())
                .connectionTimeoutMs(1_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3))
                .build();
        own.start();
        Node a = new Node(r -> ZooKeeperMembership.builder(own, "cluster-c").register(r.service(), r.control()).build());
        nodes.add(a);
        Node b = node();
        for (Node n : List.of(a, b)) {
            Waits.until(n.service + " follows a, b", () -> n.follows(a, b), n::describe);
        }
        int delivered = a.lists.size();

        zk.stop();
        Waits.until("a's client notices the outage", () -> !own.getZookeeperClient().isConnected(), a::describe);
        assertTrue(a.follows(a, b), a.describe());
        assertTrue(b.follows(a, b), b.describe());
        assertEquals(delivered, a.lists.size(), "no list delivered during the outage");
        try (MtcpSocket s = new MtcpSocket(a.service.getAddress(), a.service.getPort())) {
            assertEquals(List.of(b.service), s.getOption(MtcpOptions.ADDITIONAL_SERVERS), "still advertised");
        }
        // a server starting now cannot join: watch() gives up at its deadline with a clear message
        ZooKeeperMembership late = ZooKeeperMembership.builder(zk.getConnectString(), "cluster-c")
                .register(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), new InetSocketAddress(InetAddress.getLoopbackAddress(), 2))
                .timeout(Duration.ofSeconds(2))
                .build();
        IOException e = assertThrows(IOException.class, () -> late.watch(list -> { }));
        assertTrue(e.getMessage().contains("not reached within 2000 ms"), e.getMessage());

        zk.restart();
        Node c = node();
        for (Node n : List.of(a, b, c)) {
            Waits.until(n.service + " follows a, b, c after the restart", () -> n.follows(a, b, c), n::describe);
        }
        b.close();
        nodes.remove(b);
        for (Node n : List.of(a, c)) {
            Waits.until(n.service + " dropped b", () -> n.follows(a, c), n::describe);
        }
        try (MtcpSocket s = new MtcpSocket(a.service.getAddress(), a.service.getPort())) {
            assertEquals(List.of(c.service), s.getOption(MtcpOptions.ADDITIONAL_SERVERS));
        }
    }
}
