package org.mtcp.zookeeper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.server.Member;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The znode layout and payload, Unix-domain control addresses, and watch()/close() at their edges. */
@Timeout(60)
class MembershipFormatTest {
    private TestingServer zk;
    private CuratorFramework client;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        client = CuratorFrameworkFactory.newClient(zk.getConnectString(), new ExponentialBackoffRetry(100, 3));
        client.start();
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        zk.close();
    }

    @Test
    void anInstanceIsAnEphemeralZnodeNamedByItsServiceAddressWithItsControlAddressInThePayload() throws Exception {
        InetSocketAddress service = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9000);
        InetSocketAddress control = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9100);
        UnixDomainSocketAddress unix = UnixDomainSocketAddress.of("/run/mtcp/b.sock");
        InetSocketAddress other = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9001);
        List<List<Member>> seen = new CopyOnWriteArrayList<>();
        ZooKeeperMembership b = ZooKeeperMembership.builder(zk.getConnectString(), "fmt").basePath("/tests/mtcp")
                .register(other, unix).build();
        try (b; ZooKeeperMembership a = ZooKeeperMembership.builder(client, "fmt").basePath("/tests/mtcp")
                .register(service, control).build();
             ZooKeeperMembership watcher = ZooKeeperMembership.builder(client, "fmt").basePath("/tests/mtcp").build()) {
            a.watch(l -> { });
            assertEquals(List.of(new Member(service, control)), a.members(), "the first list, before watch() returned");

            String path = "/tests/mtcp/fmt/127.0.0.1:9000";
            assertTrue(client.checkExists().forPath(path).getEphemeralOwner() != 0, "ephemeral");
            JsonNode json = new ObjectMapper().readTree(client.getData().forPath(path));
            assertEquals("fmt", json.get("name").asText());
            assertEquals("127.0.0.1:9000", json.get("id").asText());
            assertEquals("127.0.0.1", json.get("address").asText());
            assertEquals(9000, json.get("port").asInt());
            assertEquals("tcp:127.0.0.1:9100", json.get("payload").get("control").asText());
            assertEquals("DYNAMIC", json.get("serviceType").asText());

            b.watch(l -> { });
            watcher.watch(seen::add);
            List<Member> both = List.of(new Member(service, control), new Member(other, unix));
            // another session's registration may reach this cache just after its first read: a change follows then
            Waits.until("the watcher sees a and b, sorted by service address, b's Unix-domain control address read back",
                    () -> seen.get(seen.size() - 1).equals(both), seen::toString);
            assertEquals("unix:/run/mtcp/b.sock", new ObjectMapper().readTree(
                    client.getData().forPath("/tests/mtcp/fmt/127.0.0.1:9001")).get("payload").get("control").asText());

            b.close(); // unregisters at once (closing it again at the end does nothing)
            Waits.until("the watcher sees b leave", () -> seen.get(seen.size() - 1).equals(List.of(new Member(service, control))),
                    seen::toString);
            assertNull(client.checkExists().forPath("/tests/mtcp/fmt/127.0.0.1:9001"));
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(!seen.get(i).equals(seen.get(i - 1)), "never the same list twice in a row: " + seen);
            }
        }
        assertNull(client.checkExists().forPath("/tests/mtcp/fmt/127.0.0.1:9000"), "unregistered by close()");
    }

    @Test
    void anInstanceWithoutAControlAddressIsLeftOut() throws Exception {
        client.create().creatingParentsIfNeeded().forPath("/mtcp/odd/x", "{\"name\":\"odd\",\"id\":\"x\",\"address\":\"127.0.0.1\",\"port\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (ZooKeeperMembership w = ZooKeeperMembership.builder(client, "odd").build()) {
            List<List<Member>> seen = new CopyOnWriteArrayList<>();
            w.watch(seen::add);
            assertEquals(List.of(List.of()), seen);
        }
    }

    @Test
    void watchGivesUpAtItsDeadlineWhenNoZooKeeperAnswers() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ZooKeeperMembership m = ZooKeeperMembership.builder("127.0.0.1:" + closedPort, "none")
                .timeout(Duration.ofMillis(1_500)).build();
        IOException e = assertThrows(IOException.class, () -> m.watch(l -> { }));
        assertTrue(e.getMessage().contains("127.0.0.1:" + closedPort) && e.getMessage().contains("within 1500 ms"), e.getMessage());
        m.close();
        m.close(); // idempotent
        assertThrows(IOException.class, () -> m.watch(l -> { }), "closed");
    }

    @Test
    void aClientThatWasNotStartedIsRefusedAndBadSettingsAtOnce() throws Exception {
        try (CuratorFramework latent = CuratorFrameworkFactory.newClient(zk.getConnectString(), new ExponentialBackoffRetry(100, 3))) {
            ZooKeeperMembership m = ZooKeeperMembership.builder(latent, "x").build();
            IOException e = assertThrows(IOException.class, () -> m.watch(l -> { }));
            assertTrue(e.getMessage().contains("start the CuratorFramework"), e.getMessage());
        }
        InetSocketAddress wildcard = new InetSocketAddress(9000);
        assertThrows(IllegalArgumentException.class, () -> ZooKeeperMembership.builder(client, "x")
                .register(wildcard, new InetSocketAddress(InetAddress.getLoopbackAddress(), 9100)));
        assertThrows(IllegalArgumentException.class, () -> ZooKeeperMembership.builder(client, "a/b"));
        assertThrows(IllegalArgumentException.class, () -> ZooKeeperMembership.builder(client, "x").basePath("mtcp"));
        ZooKeeperMembership twice = ZooKeeperMembership.builder(client, "x").build();
        twice.watch(l -> { });
        assertThrows(IllegalStateException.class, () -> twice.watch(l -> { }));
        twice.close();
    }
}
