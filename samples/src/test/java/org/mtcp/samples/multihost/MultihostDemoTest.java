package org.mtcp.samples.multihost;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs {@code samples/multihost-demo.sh} as it is: network namespaces, dnsmasq, TLS, tc tbf, a JMX drain.
 * It needs root, working {@code ip netns}, {@code tc} and {@code dnsmasq}: without them it is skipped with
 * the reason, except under {@code CI=true} (CI runs as root), where a missing prerequisite fails it.
 */
class MultihostDemoTest {
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void theDemoMovesTheSessionTwiceAndEveryByteIsRight() throws Exception {
        String missing = missingPrerequisite();
        if (missing != null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true but the multi-host demo cannot run: " + missing);
            }
            Assumptions.abort("the multi-host demo needs " + missing);
        }
        Path log = Files.createDirectories(Path.of("target", "multihost-demo")).resolve("run.log");
        Process p = new ProcessBuilder("bash", "multihost-demo.sh").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroy(); // the script's trap tears the namespaces down
            p.waitFor(15, TimeUnit.SECONDS);
            fail("the demo did not end within 150 s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("==> PASS: every byte verified"), out);
        assertTrue(out.contains("(client policy: throughput fell)"), out);
        assertTrue(out.contains("(server trigger)"), out);
        assertTrue(out.contains(" 0 wrong, "), out);
    }

    /** @return what is missing to run the demo, or {@code null} */
    private static String missingPrerequisite() throws InterruptedException {
        if (!Files.isRegularFile(Path.of("multihost-demo.sh"))) {
            return "samples/multihost-demo.sh in the working directory (run from the samples module)";
        }
        if (!"0".equals(run("id", "-u").strip())) {
            return "root (it creates network namespaces and veth links)";
        }
        if (run("ip", "netns", "list") == null) {
            return "`ip netns` (iproute2) to work";
        }
        if (run("tc", "-V") == null) {
            return "tc (iproute2)";
        }
        if (run("sh", "-c", "command -v dnsmasq || test -x /usr/sbin/dnsmasq") == null) {
            return "dnsmasq (apt-get install -y dnsmasq)";
        }
        return null;
    }

    /** @return the command's output, or {@code null} when it cannot run or exits non-zero */
    private static String run(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out;
        } catch (IOException e) {
            return null;
        }
    }
}
