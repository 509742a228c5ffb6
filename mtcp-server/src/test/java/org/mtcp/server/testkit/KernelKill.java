package org.mtcp.server.testkit;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's socket-destroy ({@code ss -K}), which breaks a TCP connection as a NAT timeout or a middlebox
 * reset would: the socket it matches is aborted and its peer gets a reset. Needs root and iproute2.
 */
public final class KernelKill {
    private KernelKill() {
    }

    /** @return whether this JVM can kill sockets: runs as root with {@code ss} installed */
    public static boolean available() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return false;
        }
        try {
            Process p = new ProcessBuilder("ss", "-V").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Skips the test where sockets cannot be killed, and fails it there when {@code CI=true} (CI runs as root). */
    public static void assumeAvailable() {
        boolean ok = available();
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(ok, "CI runs as root with iproute2 installed (.ci/run): this test needs ss -K");
        }
        Assumptions.assumeTrue(ok, "ss -K needs root and iproute2");
    }

    /**
     * Kills the loopback sockets that match {@code filter} (an {@code ss} expression: {@code "sport = :4711"} is the
     * end whose local port is 4711, {@code "dport = :4711"} the end connected to it).
     *
     * @return how many established sockets it killed
     */
    public static int matching(String filter) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ss", "-K", "-H", "dst", "127.0.0.1", "( " + filter + " )").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return (int) out.lines().filter(l -> l.contains("ESTAB")).count();
    }
}
