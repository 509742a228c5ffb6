package org.mtcp.server.it;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.session.Faults.Step;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.FreePorts;
import org.mtcp.server.testkit.KernelKill;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every fault at every step (the robustness issue): a client migrates a live echo session from an origin to a
 * destination, each party in a JVM of its own. The process that owns a step is stopped there by the
 * fault-injection hook ({@code org.mtcp.internal.session.Faults}); the test kills the client, the origin or the
 * destination ({@code SIGKILL}), or cuts the control connection between the servers ({@code ss -K}, as root),
 * then lets the stopped process go on. Each outcome must be one the design allows:
 * <ul>
 * <li>the session goes on, every byte of the echo once and in order: at the origin while nothing was committed,
 * at the destination after the commit;</li>
 * <li>or, where the lazy design cannot survive (the origin dead before its state was pulled, the destination
 * dead after it committed), the client's application gets an exception that names the session and the reason;</li>
 * <li>never a hang, and the surviving servers end with no session, no application thread and no more open
 * files than they started with (give or take the control connection between them).</li>
 * </ul>
 * {@code -Dfaults.only=ORIGIN_PACKED,CLIENT_SWITCHED} runs only those steps.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class FaultMatrixTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final int ROUND = 64 * 1024;
    /** The servers keep a broken session this long for its client. */
    private static final String SERVER_GRACE_MILLIS = "1000";
    /** The client tries to resume this long. */
    private static final String CLIENT_GRACE_MILLIS = "3000";

    /** Who the fault hits. */
    enum Victim { CLIENT, ORIGIN, DESTINATION, CONTROL }

    /** The steps of a migration, each owned by one party. */
    private static final List<Step> MIGRATION_STEPS = List.of(Step.CLIENT_REQUEST_SENT, Step.DESTINATION_ASKED_ORIGIN,
            Step.ORIGIN_PACKED, Step.ORIGIN_REPLIED, Step.DESTINATION_INSTALLED, Step.DESTINATION_COMMITTED,
            Step.DESTINATION_ANSWERED, Step.CLIENT_SWITCHED);
    /** The steps of a resume at the origin (the test breaks the client's connection with ss -K first). */
    private static final List<Step> RESUME_STEPS = List.of(Step.CLIENT_RESUME_SENT, Step.SERVER_RESUMED);

    // ------------------------------------------------------------------ the child processes

    /** A server: args = index, service port 0, service port 1, control port 0, control port 1. */
    static final class Server {
        public static void main(String[] args) throws Exception {
            int me = Integer.parseInt(args[0]);
            InetSocketAddress[] service = {new InetSocketAddress(LO, Integer.parseInt(args[1])),
                    new InetSocketAddress(LO, Integer.parseInt(args[2]))};
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            mappings.put(service[0], new InetSocketAddress(LO, Integer.parseInt(args[3])));
            mappings.put(service[1], new InetSocketAddress(LO, Integer.parseInt(args[4])));
            AtomicInteger apps = new AtomicInteger();
            MtcpServerSocket server = new MtcpServerSocket(service[me].getPort(), 50, LO);
            server.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            server.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(service[1 - me]));
            server.setOption(MtcpOptions.RESUME_GRACE, Duration.ofMillis(Long.parseLong(SERVER_GRACE_MILLIS)));
            server.addMigrationListener(e -> {
                if (e.role() == org.mtcp.api.MigrationEvent.Role.ORIGIN) {
                    System.out.println("ORIGIN-EVENT committed=" + e.committed());
                }
            });
            Thread acceptor = new Thread(() -> {
                while (true) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    apps.incrementAndGet();
                    Thread app = new Thread(() -> {
                        try (s) {
                            Apps.transformingEcho(64, 1).serve(s, me);
                        } catch (IOException e) {
                            System.out.println("APP-END " + e.getClass().getSimpleName() + ": " + e.getMessage());
                        } finally {
                            apps.decrementAndGet();
                        }
                    }, "app");
                    app.setDaemon(true);
                    app.start();
                }
            }, "acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
            System.out.println("READY fds=" + fds());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("report")) {
                    System.out.println("REPORT sessions=" + server.sessions().size() + " apps=" + apps.get() + " fds=" + fds());
                } else if (line.equals("quit")) {
                    break;
                }
            }
            server.close();
            System.exit(0);
        }

        private static long fds() throws IOException {
            try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
                return s.count();
            }
        }
    }

    /**
     * The client: args = service port 0, service port 1, {@code migrate} or {@code resume}. Echoes, then migrates
     * 0 -> 1 (or, for {@code resume}, says ECHOED and waits for the test to break its connection and say go), echoes
     * again, says how it went.
     */
    static final class Client {
        public static void main(String[] args) throws IOException {
            InetSocketAddress to = new InetSocketAddress(LO, Integer.parseInt(args[1]));
            boolean resume = args[2].equals("resume");
            long at = 0;
            try (MtcpSocket s = new MtcpSocket(LO, Integer.parseInt(args[0]))) {
                s.setSoTimeout(30_000);
                at = Apps.echoRoundTrip(s, at, ROUND, "before the migration");
                if (resume) {
                    System.out.println("ECHOED local port " + s.getLocalPort());
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                } else {
                    try {
                        s.migrate(to);
                        System.out.println("MIGRATED");
                    } catch (MigrationException e) {
                        System.out.println("MIGRATE-FAILED " + e.reason() + " alive=" + e.sessionAlive() + ": " + e.getMessage());
                    }
                }
                try {
                    for (int i = 0; i < 4; i++) {
                        at = Apps.echoRoundTrip(s, at, ROUND, "after the migration");
                    }
                    System.out.println("OUTCOME ALIVE at " + s.currentServer().getPort() + " session " + s.sessionId());
                } catch (IOException e) {
                    System.out.println("OUTCOME LOST " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            } catch (IOException e) {
                System.out.println("OUTCOME LOST " + e.getClass().getSimpleName() + ": " + e.getMessage());
            } catch (AssertionError e) {
                System.out.println("OUTCOME WRONG-BYTES " + e.getMessage());
            }
            System.exit(0);
        }
    }

    /** A child JVM whose output lines the test watches. */
    private static final class Child implements AutoCloseable {
        final String name;
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final OutputStream stdin;

        Child(String name, Class<?> main, Map<String, String> properties, List<String> args) throws IOException {
            this.name = name;
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-Xmx128m");
            cmd.add("-XX:TieredStopAtLevel=1");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
            cmd.add(main.getName());
            cmd.addAll(args);
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            stdin = process.getOutputStream();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        lines.add(l);
                    }
                } catch (IOException ignored) {
                    // the child is gone
                }
            }, "test-" + name + "-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** @return the first line starting with {@code prefix} after {@code from} lines, waiting at most {@code atMost} */
        String await(String prefix, int from, Duration atMost) throws InterruptedException {
            long deadline = System.nanoTime() + atMost.toNanos();
            while (System.nanoTime() - deadline < 0) {
                for (int i = from; i < lines.size(); i++) {
                    if (lines.get(i).startsWith(prefix)) {
                        return lines.get(i);
                    }
                }
                if (!process.isAlive() && lines.stream().skip(from).noneMatch(l -> l.startsWith(prefix))) {
                    Thread.sleep(50); // its last lines may still be on the way
                    return lines.stream().skip(from).filter(l -> l.startsWith(prefix)).findFirst().orElse(null);
                }
                Thread.sleep(5);
            }
            return null;
        }

        void send(String command) throws IOException {
            stdin.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        String output() {
            return name + ":\n  " + String.join("\n  ", lines);
        }

        @Override
        public void close() throws InterruptedException {
            kill();
        }
    }

    // ------------------------------------------------------------------ the matrix

    /** What each scenario ended with, for the table printed at the end (and docs/reliability.md). */
    private static final Map<String, String> OUTCOMES = new java.util.concurrent.ConcurrentSkipListMap<>();

    @org.junit.jupiter.api.AfterAll
    static void printTable() {
        StringBuilder b = new StringBuilder("FaultMatrixTest outcomes (step / victim: outcome):\n");
        OUTCOMES.forEach((k, v) -> b.append("  ").append(k).append(": ").append(v).append('\n'));
        System.out.print(b);
    }

    /** @return a short form of the client's outcome line, without ports or ids */
    private static String summary(String outcome, int[] ports) {
        if (outcome == null) {
            return "client killed; servers clean";
        }
        if (outcome.startsWith("OUTCOME ALIVE at " + ports[0])) {
            return "survived at the origin; servers clean";
        }
        if (outcome.startsWith("OUTCOME ALIVE at " + ports[1])) {
            return "survived at the destination; servers clean";
        }
        String m = outcome.replaceAll("/?127\\.0\\.0\\.1:\\d+", "S").replaceAll("[0-9a-f]{8}", "ID");
        return "clean error: " + (m.length() > 160 ? m.substring(0, 160) + "..." : m);
    }

    @TestFactory
    Stream<DynamicTest> everyFaultAtEveryStep() {
        String only = System.getProperty("faults.only");
        Set<String> chosen = only == null ? null : Set.of(only.split(","));
        boolean root = KernelKill.available();
        List<DynamicTest> tests = new ArrayList<>();
        for (Step step : MIGRATION_STEPS) {
            if (chosen != null && !chosen.contains(step.name())) {
                continue;
            }
            for (Victim victim : Victim.values()) {
                if (victim == Victim.CONTROL && !root) {
                    continue; // ss -K needs root (CI runs as root)
                }
                tests.add(DynamicTest.dynamicTest(victim + " killed at " + step, () -> scenario(step, victim)));
            }
        }
        for (Step step : RESUME_STEPS) {
            if (!root || chosen != null && !chosen.contains(step.name())) {
                continue; // breaking the connection needs ss -K
            }
            for (Victim victim : List.of(Victim.CLIENT, Victim.ORIGIN)) {
                tests.add(DynamicTest.dynamicTest(victim + " killed at " + step, () -> scenario(step, victim)));
            }
        }
        return tests.stream();
    }

    /** Which party a step belongs to. */
    private static Victim owner(Step step) {
        switch (step) {
            case CLIENT_REQUEST_SENT:
            case CLIENT_SWITCHED:
            case CLIENT_RESUME_SENT:
                return Victim.CLIENT;
            case ORIGIN_PACKED:
            case ORIGIN_REPLIED:
            case SERVER_RESUMED: // the resume is at the origin
                return Victim.ORIGIN;
            default:
                return Victim.DESTINATION;
        }
    }

    private static void scenario(Step step, Victim victim) throws Exception {
        int[] ports = FreePorts.of(4);
        Path release = Files.createTempFile("mtcp-fault-", ".release");
        Files.delete(release);
        Map<String, String> pause = Map.of("mtcp.faultPause", step.name(), "mtcp.faultRelease", release.toString());
        Victim owner = owner(step);
        List<String> serverArgs = Arrays.stream(ports).mapToObj(String::valueOf).collect(Collectors.toList());
        // the destination killed while another party waits at one of its steps before the commit (the origin at its
        // own, the client at CLIENT_REQUEST_SENT): the destination is held before it commits. Otherwise it can
        // install and commit within the time it takes to kill it (a cold one never did; a warm one under load did,
        // and the session then went, as designed, with the destination that held it)
        boolean holdDestination = owner != Victim.DESTINATION && victim == Victim.DESTINATION
                && MIGRATION_STEPS.indexOf(step) >= 0
                && MIGRATION_STEPS.indexOf(step) < MIGRATION_STEPS.indexOf(Step.DESTINATION_COMMITTED);
        Map<String, String> destinationProps = owner == Victim.DESTINATION ? pause
                : holdDestination
                ? Map.of("mtcp.faultPause", Step.DESTINATION_INSTALLED.name(), "mtcp.faultRelease", release.toString())
                : Map.of();
        try (Child origin = server(0, serverArgs, owner == Victim.ORIGIN ? pause : Map.of());
             Child destination = server(1, serverArgs, destinationProps)) {
            Map<String, String> clientProps = new LinkedHashMap<>(owner == Victim.CLIENT ? pause : Map.of());
            clientProps.put("mtcp.resumeGraceMillis", CLIENT_GRACE_MILLIS);
            boolean resume = RESUME_STEPS.contains(step);
            try (Child client = new Child("client", Client.class, clientProps,
                    List.of(String.valueOf(ports[0]), String.valueOf(ports[1]), resume ? "resume" : "migrate"))) {
                if (resume) {
                    String echoed = client.await("ECHOED", 0, Duration.ofSeconds(60));
                    if (echoed == null) {
                        fail("the client did not get going:\n" + client.output());
                    }
                    KernelKill.matching("sport = :" + echoed.replaceAll(".* ", "")); // the client's end of its connection
                    client.send("go");
                }
                Child stopped = owner == Victim.CLIENT ? client : owner == Victim.ORIGIN ? origin : destination;
                String reached = stopped.await("MTCP-FAULT-POINT", 0, Duration.ofSeconds(60));
                if (reached == null) {
                    fail("the " + owner + " never reached " + step + "\n" + client.output() + "\n" + origin.output() + "\n"
                            + destination.output());
                }
                switch (victim) {
                    case CLIENT: client.kill(); break;
                    case ORIGIN: origin.kill(); break;
                    case DESTINATION: destination.kill(); break;
                    default: cutControl(ports[2], ports[3]);
                }
                Files.createFile(release);
                String outcome = victim == Victim.CLIENT ? null : client.await("OUTCOME", 0, Duration.ofSeconds(60));
                String all = client.output() + "\n" + origin.output() + "\n" + destination.output();
                if (victim != Victim.CLIENT) {
                    if (outcome == null) {
                        fail("the client did not finish (a hang) after " + victim + " was killed at " + step + "\n" + all);
                    }
                    checkOutcome(step, victim, outcome, ports, all);
                    if (victim == Victim.CONTROL && outcome.startsWith("OUTCOME ALIVE at " + ports[1])) {
                        // the origin heard of the commit, if not by STATE_ACK then by the client's MOVED, and says so
                        String event = origin.await("ORIGIN-EVENT", 0, Duration.ofSeconds(20));
                        assertTrue(event != null && event.endsWith("committed=true"), "the origin reports the commit the"
                                + " cut control connection hid: " + event + "\n" + client.output() + "\n" + origin.output());
                    }
                }
                client.kill();
                for (Child survivor : List.of(origin, destination)) {
                    if (survivor.process.isAlive()) {
                        checkClean(survivor, all);
                    }
                }
                int order = resume ? MIGRATION_STEPS.size() + RESUME_STEPS.indexOf(step) : MIGRATION_STEPS.indexOf(step);
                OUTCOMES.put(String.format("%02d %-24s / %-11s", order, step, victim), summary(outcome, ports));
            }
        } finally {
            Files.deleteIfExists(release);
        }
    }

    /** What the design allows after {@code victim} was killed at {@code step}. */
    private static void checkOutcome(Step step, Victim victim, String outcome, int[] ports, String all) {
        String where = victim + " killed at " + step + ": " + outcome + "\n" + all;
        assertTrue(!outcome.startsWith("OUTCOME WRONG-BYTES"), "bytes lost or repeated: " + where);
        boolean alive = outcome.startsWith("OUTCOME ALIVE");
        if (!alive) {
            assertTrue(outcome.contains("MTCP session "), "the exception names the session: " + where);
        }
        if (RESUME_STEPS.contains(step)) {
            return; // the server it resumes at is dead: a clean error (checked above) is all there can be
        }
        int committedAt = MIGRATION_STEPS.indexOf(Step.DESTINATION_COMMITTED);
        int at = MIGRATION_STEPS.indexOf(step);
        switch (victim) {
            case DESTINATION:
                if (at < committedAt) { // nothing committed: the origin keeps the session
                    assertTrue(outcome.startsWith("OUTCOME ALIVE at " + ports[0]), "the session goes on at the origin: " + where);
                }
                break;
            case ORIGIN:
                if (at > MIGRATION_STEPS.indexOf(Step.ORIGIN_REPLIED)) { // the state left the origin: the destination has it
                    assertTrue(outcome.startsWith("OUTCOME ALIVE at " + ports[1]), "the session goes on at the destination: " + where);
                }
                break;
            case CONTROL: // both servers live: the session survives, at one of them
                assertTrue(alive, "a cut control connection loses no session: " + where);
                break;
            default:
                break;
        }
    }

    /** The survivor ends with no session, no application thread, and its own files only. */
    private static void checkClean(Child server, String all) throws Exception {
        long readyFds = Long.parseLong(server.lines.stream().filter(l -> l.startsWith("READY")).findFirst().orElseThrow()
                .replaceAll(".*fds=", ""));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String report = null;
        while (System.nanoTime() - deadline < 0) {
            int from = server.lines.size();
            server.send("report");
            report = server.await("REPORT", from, Duration.ofSeconds(5));
            if (report != null && report.contains("sessions=0 apps=0")
                    && Long.parseLong(report.replaceAll(".*fds=", "")) <= readyFds + 4) {
                return;
            }
            Thread.sleep(200);
        }
        fail(server.name + " did not end clean (READY fds=" + readyFds + "): " + report + "\n" + all);
    }

    private static Child server(int index, List<String> ports, Map<String, String> properties) throws Exception {
        List<String> args = new ArrayList<>();
        args.add(String.valueOf(index));
        args.addAll(ports);
        Child c = new Child(index == 0 ? "origin" : "destination", Server.class, properties, args);
        if (c.await("READY", 0, Duration.ofSeconds(30)) == null) {
            c.kill();
            fail("server " + index + " did not start:\n" + c.output());
        }
        return c;
    }

    /** Cuts every control connection between the two servers, both ends (the kernel's socket-destroy). */
    private static void cutControl(int control0, int control1) throws Exception {
        for (int port : new int[]{control0, control1}) {
            KernelKill.matching("dport = :" + port);
            KernelKill.matching("sport = :" + port);
        }
    }
}
