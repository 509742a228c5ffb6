package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.server.it.DiffKit.Ctx;
import org.mtcp.server.it.DiffKit.Job;
import org.mtcp.server.it.DiffKit.World;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The one drop-in scenario too slow for {@link DropInDifferentialTest}'s table: clients connect, without a
 * connect timeout, to a server whose application does not accept for longer than the handshake wait of
 * earlier versions (10 s). With the JDK's sockets the connections wait in the kernel and go on once the
 * application accepts; so must an MTCP client's, whose handshake waits behind the server's full accept
 * queue (backlog 1: the first client fills the library's queue, the second waits in the kernel's). All four
 * worlds run at once, so the scenario costs its hold once.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FullAcceptQueueTest {
    /** How long the application does not accept: past the old 10 s handshake timeout. */
    private static final long HOLD_MILLIS = 11_000;
    private static final int CLIENTS = 2;

    @Test
    void clientsWaitForAnApplicationThatAcceptsLateAsTheJdksDo() throws Exception {
        Map<World, Job<List<String>>> runs = new EnumMap<>(World.class);
        List<Ctx> contexts = new ArrayList<>();
        try {
            for (World w : World.values()) {
                Ctx c = new Ctx(w);
                contexts.add(c);
                runs.put(w, c.start("world-" + w, () -> scenario(c)));
            }
            Map<World, String> seen = new EnumMap<>(World.class);
            for (Map.Entry<World, Job<List<String>>> e : runs.entrySet()) {
                seen.put(e.getKey(), e.getValue().get(60_000));
            }
            String jdk = seen.get(World.JDK);
            assertEquals(expected(), jdk, "the JDK's own sockets (the oracle) behaved unexpectedly");
            for (World w : World.values()) {
                assertEquals(jdk, seen.get(w), w + " differs from the JDK's sockets when the application accepts late");
            }
        } finally {
            for (Ctx c : contexts) {
                c.close();
            }
        }
    }

    private static String expected() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            out.add("client" + i + "=connected echo=" + (1000 + i));
        }
        return out.toString();
    }

    /** @return per client: how its connect ended and what it read back */
    private static List<String> scenario(Ctx c) throws Exception {
        ServerSocket server = c.closeLater(serverWithBacklogOne(c.world));
        int port = server.getLocalPort();
        List<Job<String>> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            int n = 1000 + i;
            clients.add(c.start(c.world + "-client" + i, () -> {
                Socket s = c.client();
                try {
                    s.connect(new InetSocketAddress(DiffKit.LO, port)); // no timeout: the kernel's, as the JDK's
                } catch (Exception e) {
                    return "connect=" + DiffKit.ex(e);
                }
                s.setSoTimeout((int) (HOLD_MILLIS + 20_000));
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(n);
                out.flush();
                return "connected echo=" + DiffKit.observe(() -> new DataInputStream(s.getInputStream()).readInt());
            }));
        }
        Thread.sleep(HOLD_MILLIS);
        server.setSoTimeout(20_000);
        for (int i = 0; i < CLIENTS; i++) {
            Socket a = c.closeLater(server.accept());
            a.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(a.getInputStream());
            new DataOutputStream(a.getOutputStream()).writeInt(in.readInt());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            out.add("client" + i + "=" + clients.get(i).get(30_000));
        }
        return out;
    }

    private static ServerSocket serverWithBacklogOne(World w) throws Exception {
        switch (w) {
            case MTCP:
            case PLAIN_CLIENT:
                org.mtcp.server.MtcpServerSocket s = new org.mtcp.server.MtcpServerSocket(0, 1, DiffKit.LO);
                if (w == World.PLAIN_CLIENT) {
                    org.mtcp.server.ServerInternals.server(s).setDetectMillis(DiffKit.DETECT_MILLIS);
                }
                return s;
            default:
                return new ServerSocket(0, 1, DiffKit.LO);
        }
    }
}
