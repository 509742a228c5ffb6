package org.mtcp.server.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.mtcp.server.it.DiffKit.Ctx;
import org.mtcp.server.it.DiffKit.Job;
import org.mtcp.server.it.DiffKit.Pair;
import org.mtcp.server.it.DiffKit.World;
import org.mtcp.server.testkit.Waits;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mtcp.server.it.DiffKit.CONNECT_TIMEOUT;
import static org.mtcp.server.it.DiffKit.LO;
import static org.mtcp.server.it.DiffKit.SO_TIMEOUT;
import static org.mtcp.server.it.DiffKit.ex;
import static org.mtcp.server.it.DiffKit.observe;
import static org.mtcp.server.it.DiffKit.pattern;
import static org.mtcp.server.it.DiffKit.peerGone;
import static org.mtcp.server.it.DiffKit.readToEnd;
import static org.mtcp.server.it.DiffKit.sleep;

/**
 * A differential test with the JDK as the oracle: the library's sockets are meant to be drop-in
 * replacements, so whatever an application observes with {@code java.net.Socket} and
 * {@code java.net.ServerSocket} it must observe with them too.
 *
 * <p>Each {@link Scenario} is a small socket program (client side and server side, on threads,
 * every blocking call bounded by {@code SO_TIMEOUT} or a timed join) that records what the
 * application sees as an ordered list of strings: return values, exception class names with the
 * first words of their messages (never host or port text), booleans, option values, and how a
 * stream ended ({@code -1}, a reset, data). It never records timing, only facts (a blocked thread
 * that spins is recorded as {@code spins=true}, from its CPU time against a generous bound).
 *
 * <p>Every scenario runs in the four {@link World}s: {@code JDK} (the oracle), {@code MTCP},
 * {@code PLAIN_CLIENT} (a plain client served by {@code MtcpServerSocket}) and
 * {@code PASS_THROUGH} (the library's client impl to a plain server). Each of the last three is
 * compared with {@code JDK}, scenario by scenario:
 * <ul>
 * <li>a pair in {@link #EXPECTED_DIFFERENCES} differs because of what migration itself changes;
 * the entry's normalizer removes that part and the rest must be the same;</li>
 * <li>a pair in {@link #KNOWN_DIFFERENCES} differs today; the test fails when it stops differing,
 * so that the entry is removed and the list only shrinks;</li>
 * <li>any other pair that differs is a regression and fails the test.</li>
 * </ul>
 * A matrix (scenario × world: {@code same} or the difference) is printed at the end, with the
 * JDK's own observations and, for a new difference, the {@code KNOWN_DIFFERENCES} line to add if
 * it is accepted for now.
 *
 * <p>The oracle is the JDK this runs on (17 on Linux), not a reading of the specification, and it
 * is sometimes not what one would guess: a socket closed with unread bytes shuts its output down
 * before closing, so its peer reads {@code -1} (and only a later write fails), not a reset; an
 * interrupt of a thread blocked in read, write or accept is ignored; {@code setOption(o, null)}
 * throws {@link IllegalArgumentException}; a connection still in the backlog when the server
 * socket closes is reset. The {@code MtcpServerSocket} of {@code PLAIN_CLIENT} classifies a silent
 * client after {@value DiffKit#DETECT_MILLIS} ms instead of 2 s; the one of {@code MTCP} keeps the
 * default, as an MTCP client's first hello in a JVM can take longer than that.
 *
 * <p>{@code -Ddiff.repeat=3} runs each scenario three times per world and fails when a world's
 * observations vary between runs (a flaky observation, which does not belong in the table);
 * {@code -Ddiff.only=BIND,AVAILABLE} runs only those scenarios.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DropInDifferentialTest {
    private static final int REPEAT = Integer.getInteger("diff.repeat", 1);
    /** The pause of the slow reader of {@link #childWrites} before its first read. */
    private static final long SLOW_READER_PAUSE_MILLIS = 1000;

    /** The scenarios, the behaviours applications rely on. */
    enum Scenario {
        PEER_CLOSES_AFTER_WRITE(DropInDifferentialTest::peerClosesAfterWrite),
        CLIENT_CLOSES_AFTER_WRITE(DropInDifferentialTest::clientClosesAfterWrite),
        CLIENT_KILLED_AFTER_WRITE(c -> childWrites(c, "halt", 100_000)),
        CLIENT_EXITS_AFTER_CLOSE(c -> childWrites(c, "close-exit", 4 << 20)),
        CLIENT_EXITS_WITHOUT_CLOSE(c -> childWrites(c, "exit", 4 << 20)),
        CLIENT_MAIN_RETURNS_WITHOUT_CLOSE(c -> childWrites(c, "return", 4 << 20)),
        HALF_CLOSE_CLIENT(c -> halfClose(c, true)),
        HALF_CLOSE_SERVER(c -> halfClose(c, false)),
        CLOSE_WITH_UNREAD_DATA_SERVER(c -> closeWithUnread(c, true)),
        CLOSE_WITH_UNREAD_DATA_CLIENT(c -> closeWithUnread(c, false)),
        ABORTIVE_CLOSE_CLIENT(c -> abortiveClose(c, true)),
        ABORTIVE_CLOSE_SERVER(c -> abortiveClose(c, false)),
        LINGER_OFF(DropInDifferentialTest::lingerOff),
        READ_TIMEOUT(DropInDifferentialTest::readTimeout),
        INTERRUPT_READ_CLIENT(c -> interruptRead(c, true)),
        INTERRUPT_READ_ACCEPTED(c -> interruptRead(c, false)),
        INTERRUPT_WRITE_CLIENT(c -> interruptWrite(c, true)),
        INTERRUPT_WRITE_ACCEPTED(c -> interruptWrite(c, false)),
        CLOSE_WHILE_READING(c -> closeWhileReading(c, true)),
        CLOSE_WHILE_READING_ACCEPTED(c -> closeWhileReading(c, false)),
        WRITE_AFTER_PEER_CLOSED(DropInDifferentialTest::writeAfterPeerClosed),
        AVAILABLE(DropInDifferentialTest::available),
        OPTIONS_UNCONNECTED(DropInDifferentialTest::optionsUnconnected),
        OPTIONS_CONNECTED(DropInDifferentialTest::optionsConnected),
        SUPPORTED_OPTIONS_CLIENT(DropInDifferentialTest::supportedOptionsClient),
        SUPPORTED_OPTIONS_ACCEPTED(DropInDifferentialTest::supportedOptionsAccepted),
        BIND(DropInDifferentialTest::bind),
        ACCEPT_TIMEOUT(DropInDifferentialTest::acceptTimeout),
        ACCEPT_INTERRUPT(DropInDifferentialTest::acceptInterrupt),
        SILENT_CLIENT_CLOSES(DropInDifferentialTest::silentClientCloses),
        PENDING_WHEN_SERVER_CLOSES(DropInDifferentialTest::pendingWhenServerCloses),
        SERVER_SOCKET_OPTIONS(DropInDifferentialTest::serverSocketOptions),
        SERVER_SUPPORTED_OPTIONS(DropInDifferentialTest::serverSupportedOptions),
        URGENT_DATA(DropInDifferentialTest::urgentData);

        final Body body;

        Scenario(Body body) {
            this.body = body;
        }
    }

    /** A scenario's code. */
    interface Body {
        void run(Ctx c) throws Exception;
    }

    /** A legitimate difference: why, and what of the observations it is (removed before comparing). */
    static final class Expected {
        final String reason;
        final UnaryOperator<List<String>> normalize;

        Expected(String reason, UnaryOperator<List<String>> normalize) {
            this.reason = reason;
            this.normalize = normalize;
        }
    }

    private static String key(Scenario s, World w) {
        return s.name() + "/" + w.name();
    }

    /** Removes the library's own options ({@code MTCP_*}) from {@code supported...=[...]} observations. */
    private static List<String> withoutMtcpOptions(List<String> obs) {
        return obs.stream().map(o -> {
            int eq = o.indexOf("=[");
            if (!o.startsWith("supported") || eq < 0 || !o.endsWith("]")) {
                return o;
            }
            String names = o.substring(eq + 2, o.length() - 1);
            return o.substring(0, eq + 2) + Stream.of(names.split(", ")).filter(n -> !n.startsWith("MTCP_"))
                    .collect(Collectors.joining(", ")) + "]";
        }).collect(Collectors.toList());
    }

    /** Differences migration itself brings (scenario/world -> reason); the README lists them. */
    static final Map<String, Expected> EXPECTED_DIFFERENCES = new LinkedHashMap<>();
    /** Differences observed today that the library should not have (scenario/world -> what differs). */
    static final Map<String, String> KNOWN_DIFFERENCES = new LinkedHashMap<>();

    static {
        String clientOptions = "the library's client impl also lists its own options (MTCP_MIGRATE, MTCP_ADDITIONAL_SERVERS),"
                + " before connecting and on pass-through connections too; the standard options must be the JDK's";
        EXPECTED_DIFFERENCES.put(key(Scenario.SUPPORTED_OPTIONS_CLIENT, World.MTCP),
                new Expected(clientOptions, DropInDifferentialTest::withoutMtcpOptions));
        EXPECTED_DIFFERENCES.put(key(Scenario.SUPPORTED_OPTIONS_CLIENT, World.PASS_THROUGH),
                new Expected(clientOptions, DropInDifferentialTest::withoutMtcpOptions));
        String serverOptions = "MtcpServerSocket also lists its own options (MTCP_ADDITIONAL_SERVERS, MTCP_CONTROL_MAPPINGS,"
                + " MTCP_CONTROL_TLS); the standard options must be the JDK's";
        EXPECTED_DIFFERENCES.put(key(Scenario.SERVER_SUPPORTED_OPTIONS, World.MTCP),
                new Expected(serverOptions, DropInDifferentialTest::withoutMtcpOptions));
        EXPECTED_DIFFERENCES.put(key(Scenario.SERVER_SUPPORTED_OPTIONS, World.PLAIN_CLIENT),
                new Expected(serverOptions, DropInDifferentialTest::withoutMtcpOptions));
        String acceptedOptions = "a socket accepted by MtcpServerSocket also lists the library's options "
                + "(MTCP_APP_STATE, MTCP_MIGRATED, MTCP_TRIGGER), for plain clients too; the standard options must be the JDK's";
        EXPECTED_DIFFERENCES.put(key(Scenario.SUPPORTED_OPTIONS_ACCEPTED, World.MTCP),
                new Expected(acceptedOptions, DropInDifferentialTest::withoutMtcpOptions));
        EXPECTED_DIFFERENCES.put(key(Scenario.SUPPORTED_OPTIONS_ACCEPTED, World.PLAIN_CLIENT),
                new Expected(acceptedOptions, DropInDifferentialTest::withoutMtcpOptions));

        EXPECTED_DIFFERENCES.put(key(Scenario.URGENT_DATA, World.MTCP), new Expected("an MTCP session carries one byte"
                + " stream, which it replays after a migration; TCP's urgent byte is outside it, so MtcpSocket and the sockets"
                + " it connects to refuse sendUrgentData and setOOBInline(true) with a SocketException that says so",
                obs -> List.of()));
        EXPECTED_DIFFERENCES.put(key(Scenario.CLIENT_KILLED_AFTER_WRITE, World.MTCP), new Expected("write() returns once"
                + " the bytes are in the session's send buffer (at most mtcp.sendWindow), which must outlive the connection"
                + " for a migration to replay it; a process killed before the library handed them to the kernel loses them"
                + " with it (a normal exit, with or without close(), delivers them), and the kernel resets the connection;"
                + " and a killed client said nothing, so its server waits for it to resume the session for MTCP_RESUME_GRACE,"
                + " then its reads fail saying the client did not come back",
                obs -> obs.stream().filter(o -> !o.startsWith("server.read=")).collect(Collectors.toList())));

        // what differs today (the library is being fixed): each entry must go once its pair behaves as the JDK
    }

    /** Observations per scenario and world, for the matrix. */
    private static final Map<Scenario, Map<World, List<String>>> RESULTS = new ConcurrentHashMap<>();

    @TestFactory
    Stream<DynamicTest> scenarios() {
        // every wait inside is bounded; this bounds a scenario (its four worlds, REPEAT times) as a whole
        Duration atMost = Duration.ofSeconds(60L * REPEAT);
        String only = System.getProperty("diff.only", "");
        return Stream.of(Scenario.values()).filter(s -> only.isEmpty() || List.of(only.split(",")).contains(s.name()))
                .map(s -> DynamicTest.dynamicTest(s.name(), () -> assertTimeoutPreemptively(atMost, () -> check(s))));
    }

    /** The comparison rules themselves, on made-up observations (no sockets). */
    @Test
    void comparisonRules() {
        List<String> a = List.of("x=1");
        List<String> b = List.of("x=2");
        String[] neither = Stream.of(Scenario.values()).flatMap(s -> Stream.of(World.MTCP, World.PLAIN_CLIENT, World.PASS_THROUGH)
                        .map(w -> key(s, w))).filter(k -> !KNOWN_DIFFERENCES.containsKey(k) && !EXPECTED_DIFFERENCES.containsKey(k))
                .findFirst().orElseThrow().split("/");
        Scenario s = Scenario.valueOf(neither[0]);
        World w = World.valueOf(neither[1]);
        assertEquals(Kind.SAME, verdict(s, w, a, a).kind);
        Verdict fresh = verdict(s, w, b, a);
        assertEquals(Kind.NEW, fresh.kind);
        assertTrue(fresh.failure.contains("in neither EXPECTED_DIFFERENCES nor KNOWN_DIFFERENCES") && fresh.failure.contains(key(s, w)),
                fresh.failure);
        for (String k : KNOWN_DIFFERENCES.keySet()) {
            Scenario ks = Scenario.valueOf(k.split("/")[0]);
            World kw = World.valueOf(k.split("/")[1]);
            assertEquals(Kind.KNOWN, verdict(ks, kw, b, a).kind, k);
            Verdict stale = verdict(ks, kw, a, a);
            assertEquals(Kind.STALE, stale.kind, k);
            assertTrue(stale.failure.contains("remove the entry \"" + k + "\""), stale.failure);
        }
        for (String k : EXPECTED_DIFFERENCES.keySet()) {
            if (!k.contains("SUPPORTED_OPTIONS")) {
                continue; // the rule below is the option lists'; the others remove whole observations
            }
            Scenario es = Scenario.valueOf(k.split("/")[0]);
            World ew = World.valueOf(k.split("/")[1]);
            boolean known = KNOWN_DIFFERENCES.containsKey(k);
            List<String> jdk = List.of("supported.x=[A, B]");
            assertEquals(known ? Kind.STALE : Kind.EXPECTED, verdict(es, ew, jdk, List.of("supported.x=[A, B, MTCP_C]")).kind, k);
            assertEquals(known ? Kind.KNOWN : Kind.NEW, verdict(es, ew, jdk, List.of("supported.x=[A, MTCP_C]")).kind, k);
        }
    }

    private static void check(Scenario s) throws Exception {
        Map<World, List<String>> byWorld = new EnumMap<>(World.class);
        List<String> flaky = new ArrayList<>();
        for (World w : World.values()) {
            List<String> first = null;
            for (int r = 0; r < REPEAT; r++) {
                List<String> obs = run(s, w);
                if (first == null) {
                    first = obs;
                } else if (!obs.equals(first)) {
                    flaky.add(w + ": run 1 " + first + " vs run " + (r + 1) + " " + obs);
                }
            }
            byWorld.put(w, first);
        }
        RESULTS.put(s, byWorld);
        if (!flaky.isEmpty()) {
            throw new AssertionError(s + " is not deterministic: " + String.join("; ", flaky));
        }
        List<String> jdk = byWorld.get(World.JDK);
        List<String> failures = new ArrayList<>();
        for (World w : World.values()) {
            if (w == World.JDK) {
                continue;
            }
            Verdict v = verdict(s, w, jdk, byWorld.get(w));
            if (v.failure != null) {
                failures.add(v.failure);
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(String.join("\n", failures));
        }
    }

    private static List<String> run(Scenario s, World w) {
        try (Ctx c = new Ctx(w)) {
            try {
                s.body.run(c);
            } catch (Exception e) {
                c.note("scenario-threw", ex(e));
            }
            return c.observations();
        }
    }

    /** How one world compares with the JDK in one scenario. */
    enum Kind {
        /** observes what the JDK does */
        SAME,
        /** differs only as its {@link #EXPECTED_DIFFERENCES} entry allows */
        EXPECTED,
        /** differs as its {@link #KNOWN_DIFFERENCES} entry says it does today (and maybe as expected too) */
        KNOWN,
        /** differs and is in neither map: fails */
        NEW,
        /** in {@link #KNOWN_DIFFERENCES} but no longer differs: fails */
        STALE
    }

    /** The comparison of one world with the JDK in one scenario. */
    static final class Verdict {
        final Kind kind;
        /** The observations that differ (beyond what is expected), for the matrix. */
        final String detail;
        /** Why the test fails, or {@code null}. */
        final String failure;

        Verdict(Kind kind, String detail, String failure) {
            this.kind = kind;
            this.detail = detail;
            this.failure = failure;
        }

        /** @return the matrix cell */
        String cell(boolean expectedToo) {
            switch (kind) {
                case KNOWN:
                    return expectedToo ? "expected+known" : "known";
                case NEW:
                    return "DIFFERS(new)";
                case STALE:
                    return "same(STALE)";
                default:
                    return kind.name().toLowerCase(java.util.Locale.ROOT);
            }
        }
    }

    static Verdict verdict(Scenario s, World w, List<String> jdkObserved, List<String> observed) {
        String k = key(s, w);
        Expected e = EXPECTED_DIFFERENCES.get(k);
        String known = KNOWN_DIFFERENCES.get(k);
        List<String> obs = observed;
        List<String> jdk = jdkObserved;
        boolean expectedPart = false;
        if (e != null) {
            // what migration changes is removed from both; the rest is compared as for any pair
            obs = e.normalize.apply(observed);
            jdk = e.normalize.apply(jdkObserved);
            expectedPart = !observed.equals(obs);
        }
        if (obs.equals(jdk)) {
            if (known != null) {
                return new Verdict(Kind.STALE, "", k + " now behaves as the JDK" + (expectedPart ? " (but for its EXPECTED_DIFFERENCES entry)" : "")
                        + ": remove the entry \"" + k + "\" (\"" + known + "\") from KNOWN_DIFFERENCES in DropInDifferentialTest."
                        + " Observed " + observed + ", JDK " + jdkObserved);
            }
            return new Verdict(expectedPart ? Kind.EXPECTED : Kind.SAME, "", null);
        }
        String d = difference(obs, jdk);
        if (known != null) {
            return new Verdict(Kind.KNOWN, "(" + known + ") " + d, null);
        }
        return new Verdict(Kind.NEW, d, k + " differs from the JDK and is in neither EXPECTED_DIFFERENCES nor KNOWN_DIFFERENCES"
                + (e == null ? "" : " (it differs beyond its expected difference: " + e.reason + ")")
                + " - a regression, or a new scenario: " + d + ". Fix the library so that it behaves as the JDK; if the difference"
                + " is what migration itself changes, add \"" + k + "\" to EXPECTED_DIFFERENCES with the reason."
                + " Observed " + observed + ", JDK " + jdkObserved);
    }

    /** @return the observations that differ, as {@code observed 'x' / JDK 'y'} */
    static String difference(List<String> obs, List<String> jdk) {
        List<String> d = new ArrayList<>();
        int n = Math.max(obs.size(), jdk.size());
        for (int i = 0; i < n; i++) {
            String a = i < obs.size() ? obs.get(i) : "(nothing)";
            String b = i < jdk.size() ? jdk.get(i) : "(nothing)";
            if (!a.equals(b)) {
                d.add("observed '" + a + "' / JDK '" + b + "'");
            }
        }
        return String.join("; ", d);
    }

    @AfterAll
    static void printMatrix() {
        List<World> others = List.of(World.MTCP, World.PLAIN_CLIENT, World.PASS_THROUGH);
        int width = 2 + Stream.of(Scenario.values()).mapToInt(s -> s.name().length()).max().orElse(10);
        StringBuilder m = new StringBuilder("\nDropInDifferentialTest: each world compared with the JDK\n");
        m.append(String.format("%-" + width + "s", "scenario"));
        for (World w : others) {
            m.append(String.format("%-16s", w));
        }
        m.append('\n');
        Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        int scenarios = 0;
        StringBuilder details = new StringBuilder();
        for (Scenario s : Scenario.values()) {
            Map<World, List<String>> r = RESULTS.get(s);
            if (r == null) {
                continue;
            }
            scenarios++;
            m.append(String.format("%-" + width + "s", s));
            for (World w : others) {
                Verdict v = verdict(s, w, r.get(World.JDK), r.get(w));
                String cell = v.cell(EXPECTED_DIFFERENCES.containsKey(key(s, w)));
                counts.merge(v.kind, 1, Integer::sum);
                if (v.kind == Kind.KNOWN || v.kind == Kind.NEW) {
                    details.append("  ").append(key(s, w)).append(": ").append(cell).append(' ').append(v.detail).append('\n');
                }
                m.append(String.format("%-16s", cell));
            }
            m.append('\n');
        }
        int same = counts.getOrDefault(Kind.SAME, 0) + counts.getOrDefault(Kind.STALE, 0);
        int expected = counts.getOrDefault(Kind.EXPECTED, 0);
        int known = counts.getOrDefault(Kind.KNOWN, 0);
        int fresh = counts.getOrDefault(Kind.NEW, 0);
        m.append(String.format("%d scenarios x 3 worlds: %d same, %d differ (%d known, %d new), %d differ only as expected;"
                + " %d KNOWN_DIFFERENCES entries are stale%n", scenarios, same, known + fresh, known, fresh, expected,
                counts.getOrDefault(Kind.STALE, 0)));
        m.append("differences:\n").append(details);
        m.append("suggested KNOWN_DIFFERENCES entries for differences in neither map:\n");
        for (Scenario s : Scenario.values()) {
            Map<World, List<String>> r = RESULTS.get(s);
            for (World w : r == null ? List.<World>of() : others) {
                Verdict v = verdict(s, w, r.get(World.JDK), r.get(w));
                if (v.kind == Kind.NEW) {
                    m.append("        KNOWN_DIFFERENCES.put(key(Scenario.").append(s).append(", World.").append(w).append("), \"")
                            .append(v.detail.replace("\"", "\\\"")).append("\");\n");
                }
            }
        }
        m.append("JDK observations:\n");
        for (Scenario s : Scenario.values()) {
            Map<World, List<String>> r = RESULTS.get(s);
            if (r != null) {
                m.append("  ").append(s).append(": ").append(r.get(World.JDK)).append('\n');
            }
        }
        System.out.println(m);
    }

    // ------------------------------------------------------------------ scenarios

    /** The server writes and closes normally: the client reads every byte, then -1, then -1 again. */
    static void peerClosesAfterWrite(Ctx c) throws Exception {
        Pair p = c.pair();
        p.accepted.getOutputStream().write(pattern(3000));
        p.accepted.close();
        InputStream in = p.client.getInputStream();
        c.note("client.read", readToEnd(in, 0));
        c.attempt("client.readAgain", in::read);
        c.note("client.isClosed", p.client.isClosed());
        c.note("client.isConnected", p.client.isConnected());
        c.note("client.isInputShutdown", p.client.isInputShutdown());
        // the peer is gone (not half-closed): the first write still succeeds in the JDK, the reset it
        // draws fails the next; the waits let the library's close handling finish, whatever it does
        sleep(200);
        c.write("client.write", p.client, pattern(1));
        sleep(200);
        c.write("client.writeAgain", p.client, pattern(1));
    }

    /** The client writes and closes normally: the server reads every byte, then -1, then -1 again. */
    static void clientClosesAfterWrite(Ctx c) throws Exception {
        Pair p = c.pair();
        p.client.getOutputStream().write(pattern(3000));
        p.client.close();
        InputStream in = p.accepted.getInputStream();
        c.note("server.read", readToEnd(in, 0));
        c.attempt("server.readAgain", in::read);
        c.note("server.isClosed", p.accepted.isClosed());
        c.note("server.isConnected", p.accepted.isConnected());
    }

    /**
     * A client in a child JVM connects, writes {@code bytes} and ends as {@code mode} says; the
     * server reads slowly and records what arrived and how the stream ended.
     */
    static void childWrites(Ctx c, String mode, int bytes) throws Exception {
        ServerSocket server = c.server();
        server.setSoTimeout(15_000);
        Job<String> reader = c.start("child-reader", () -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(10_000);
                // a slow reader: the child's writes, its close and its exit happen before most is read
                sleep(SLOW_READER_PAUSE_MILLIS);
                return delivery(readToEnd(s.getInputStream(), 3), bytes);
            }
        });
        ChildJvm.Result r = ChildJvm.run(WriterChild.class, Map.of("diff.world", c.world.name(), "diff.port",
                String.valueOf(server.getLocalPort()), "diff.mode", mode, "diff.bytes", String.valueOf(bytes)), Duration.ofSeconds(20));
        c.note("server.read", reader.get(20_000));
        c.note("child.exit", r.exitCode);
        if (!r.output.isBlank()) {
            c.note("child.output", r.output.lines().findFirst().orElse(""));
        }
    }

    /**
     * @param read what {@link DiffKit#readToEnd} saw
     * @return {@code all bytes, then -1}, {@code truncated, then -1} (bytes silently lost), or
     *         {@code corrupt bytes}, or {@code ended by <exception>} without the count: how much a reset discards is not
     *         deterministic, in the JDK too
     */
    private static String delivery(String read, int expected) {
        String end = read.substring(read.indexOf(" end=") + 5);
        if (read.contains(" corrupt ")) {
            return "corrupt bytes, then " + end;
        }
        if (!end.equals("-1")) {
            return "ended by " + end;
        }
        return (read.equals("bytes=" + expected + " end=-1") ? "all bytes" : "truncated") + ", then -1";
    }

    /** The client of {@link #childWrites}, in its own JVM. */
    static final class WriterChild {
        public static void main(String[] args) throws Exception {
            World w = World.valueOf(System.getProperty("diff.world"));
            Socket s = w.client();
            s.connect(new InetSocketAddress(LO, Integer.getInteger("diff.port")), CONNECT_TIMEOUT);
            OutputStream out = s.getOutputStream();
            out.write(pattern(Integer.getInteger("diff.bytes")));
            out.flush();
            switch (System.getProperty("diff.mode")) {
                case "halt":
                    Runtime.getRuntime().halt(3);
                    break;
                case "close-exit":
                    s.close();
                    System.exit(0);
                    break;
                case "exit":
                    System.exit(0);
                    break;
                default:
                    // return from main without closing: the JVM ends when its non-daemon threads have
            }
        }
    }

    /** One side shuts its output down: the other reads -1 while the other direction still works. */
    static void halfClose(Ctx c, boolean clientShuts) throws Exception {
        Pair p = c.pair();
        Socket a = clientShuts ? p.client : p.accepted;
        Socket b = clientShuts ? p.accepted : p.client;
        a.getOutputStream().write(pattern(100));
        a.shutdownOutput();
        c.note("shut.isOutputShutdown", a.isOutputShutdown());
        c.note("shut.isInputShutdown", a.isInputShutdown());
        c.note("peer.read", readToEnd(b.getInputStream(), 0));
        c.attempt("peer.readAgain", () -> b.getInputStream().read());
        c.note("peer.isInputShutdown", b.isInputShutdown());
        c.attempt("shut.write", () -> {
            a.getOutputStream().write(1);
            return "ok";
        });
        c.attempt("shut.getOutputStream", () -> a.getOutputStream() != null);
        b.getOutputStream().write(pattern(200));
        byte[] got = new byte[200];
        c.attempt("shut.readOtherDirection", () -> {
            int n = 0;
            while (n < got.length) {
                int k = a.getInputStream().read(got, n, got.length - n);
                if (k < 0) {
                    return "-1 after " + n;
                }
                n += k;
            }
            return n;
        });
        a.shutdownInput();
        c.note("shut.isInputShutdownAfter", a.isInputShutdown());
        c.attempt("shut.readAfterShutdownInput", () -> a.getInputStream().read());
        c.attempt("shut.getInputStream", () -> a.getInputStream() != null);
        c.attempt("shut.shutdownOutputAgain", () -> {
            a.shutdownOutput();
            return "ok";
        });
        c.note("shut.isClosed", a.isClosed());
        c.note("shut.isConnected", a.isConnected());
        b.close();
    }

    /** One side closes with bytes from the other unread: the JDK on Linux then sends a reset. */
    static void closeWithUnread(Ctx c, boolean serverCloses) throws Exception {
        Pair p = c.pair();
        Socket closer = serverCloses ? p.accepted : p.client;
        Socket peer = serverCloses ? p.client : p.accepted;
        peer.getOutputStream().write(pattern(100));
        sleep(150);
        closer.close();
        sleep(150);
        c.attempt("peer.read", () -> peer.getInputStream().read());
        c.attempt("peer.readAgain", () -> peer.getInputStream().read());
        c.attempt("peer.write", () -> {
            try {
                peer.getOutputStream().write(1);
                return "ok";
            } catch (java.io.IOException e) {
                return peerGone(e);
            }
        });
        c.note("peer.isClosed", peer.isClosed());
    }

    /** SO_LINGER 0 then close: the peer sees a reset. */
    static void abortiveClose(Ctx c, boolean clientCloses) throws Exception {
        Pair p = c.pair();
        Socket closer = clientCloses ? p.client : p.accepted;
        Socket peer = clientCloses ? p.accepted : p.client;
        closer.getOutputStream().write(pattern(10));
        sleep(100);
        closer.setSoLinger(true, 0);
        c.note("closer.getSoLinger", closer.getSoLinger());
        closer.close();
        sleep(150);
        c.attempt("peer.read", () -> peer.getInputStream().read(new byte[100]));
        c.attempt("peer.readAgain", () -> peer.getInputStream().read());
    }

    /** setSoLinger(false, n) turns lingering off: getSoLinger is -1. */
    static void lingerOff(Ctx c) throws Exception {
        Socket u = c.client();
        u.setSoLinger(false, 5);
        c.note("unconnected.getSoLinger", u.getSoLinger());
        u.setSoLinger(true, 5);
        c.note("unconnected.getSoLingerOn", u.getSoLinger());
        Pair p = c.pair(u);
        c.note("connected.getSoLingerKept", p.client.getSoLinger());
        p.client.setSoLinger(false, 5);
        c.note("connected.getSoLinger", p.client.getSoLinger());
        p.accepted.setSoLinger(true, 7);
        c.note("accepted.getSoLingerOn", p.accepted.getSoLinger());
        p.accepted.setSoLinger(false, 7);
        c.note("accepted.getSoLinger", p.accepted.getSoLinger());
    }

    /** A read times out and the socket stays usable, on both sides. */
    static void readTimeout(Ctx c) throws Exception {
        Pair p = c.pair();
        for (boolean client : new boolean[] {true, false}) {
            Socket r = client ? p.client : p.accepted;
            Socket w = client ? p.accepted : p.client;
            String side = client ? "client" : "accepted";
            r.setSoTimeout(100);
            c.note(side + ".getSoTimeout", r.getSoTimeout());
            c.attempt(side + ".read", () -> r.getInputStream().read());
            c.note(side + ".isClosed", r.isClosed());
            c.write(side + ".peerWrite", w, new byte[] {42});
            r.setSoTimeout(SO_TIMEOUT);
            c.attempt(side + ".readLater", () -> r.getInputStream().read());
        }
    }

    /** JDK 17 ignores an interrupt of a thread blocked in read: it reads when data comes, the flag stays set. */
    static void interruptRead(Ctx c, boolean clientReads) throws Exception {
        Pair p = c.pair();
        Socket r = clientReads ? p.client : p.accepted;
        Socket w = clientReads ? p.accepted : p.client;
        InputStream in = r.getInputStream();
        Job<String> job = c.start("blocked-read", () -> {
            int b = in.read();
            return "read " + b + ", interrupted " + Thread.currentThread().isInterrupted();
        });
        sleep(150);
        c.note("blockedBeforeInterrupt", !job.done());
        boolean spins = Waits.spinsWhenInterrupted(job.thread, Duration.ofMillis(300));
        c.note("stillBlockedAfterInterrupt", !job.done());
        c.note("spins", spins);
        c.note("isClosed", r.isClosed());
        c.write("peer.write", w, new byte[] {7});
        c.note("blockedRead", job.get(SO_TIMEOUT + 1000));
        c.write("peer.writeAgain", w, new byte[] {8});
        c.attempt("nextRead", in::read);
    }

    /** JDK 17 ignores an interrupt of a thread blocked in write to a full peer: the write completes once the peer reads. */
    static void interruptWrite(Ctx c, boolean clientWrites) throws Exception {
        Pair p = c.pair();
        Socket writer = clientWrites ? p.client : p.accepted;
        Socket reader = clientWrites ? p.accepted : p.client;
        OutputStream out = writer.getOutputStream();
        AtomicLong written = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        byte[] chunk = new byte[64 * 1024];
        long cap = 64L << 20;
        Job<String> job = c.start("blocked-write", () -> {
            while (!stop.get() && written.get() < cap) {
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
            return "wrote to the end, interrupted " + Thread.currentThread().isInterrupted();
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        boolean blocked = false;
        long last = -1;
        while (System.nanoTime() < deadline && !job.done()) {
            sleep(200);
            long now = written.get();
            if (now == last) {
                blocked = true;
                break;
            }
            last = now;
        }
        c.note("writerBlocked", blocked);
        boolean spins = Waits.spinsWhenInterrupted(job.thread, Duration.ofMillis(300));
        c.note("stillBlockedAfterInterrupt", !job.done());
        c.note("spins", spins);
        c.note("isClosed", writer.isClosed());
        stop.set(true);
        Job<String> drain = c.start("drain", () -> {
            byte[] buf = new byte[256 * 1024];
            while (reader.getInputStream().read(buf) >= 0) {
                // discard
            }
            return "-1";
        });
        c.note("blockedWrite", job.get(SO_TIMEOUT + 1000));
        c.attempt("shutdownOutput", () -> {
            writer.shutdownOutput();
            return "ok";
        });
        c.note("peerDrainedTo", drain.get(SO_TIMEOUT + 1000));
    }

    /** Closing a socket while another thread reads it, then using it. */
    static void closeWhileReading(Ctx c, boolean client) throws Exception {
        Pair pair = c.pair();
        Socket sock = client ? pair.client : pair.accepted;
        Socket peer = client ? pair.accepted : pair.client;
        InputStream in = sock.getInputStream();
        OutputStream out = sock.getOutputStream();
        Job<String> job = c.start("read-then-closed", () -> String.valueOf(in.read()));
        sleep(150);
        sock.close();
        c.note("blockedRead", job.get(SO_TIMEOUT + 1000));
        c.note("isClosed", sock.isClosed());
        c.note("isConnected", sock.isConnected());
        c.note("isBound", sock.isBound());
        c.attempt("in.read", in::read);
        c.attempt("in.available", in::available);
        c.attempt("out.write", () -> {
            out.write(1);
            return "ok";
        });
        c.attempt("getInputStream", () -> sock.getInputStream() != null);
        c.attempt("getOutputStream", () -> sock.getOutputStream() != null);
        c.attempt("getTcpNoDelay", sock::getTcpNoDelay);
        c.attempt("setSoTimeout", () -> {
            sock.setSoTimeout(5);
            return "ok";
        });
        c.attempt("shutdownOutput", () -> {
            sock.shutdownOutput();
            return "ok";
        });
        c.attempt("closeAgain", () -> {
            sock.close();
            return "ok";
        });
        c.attempt("peer.read", () -> peer.getInputStream().read());
    }

    /** Writes after the peer closed fail, sooner or later, with a SocketException; both directions. */
    static void writeAfterPeerClosed(Ctx c) throws Exception {
        for (boolean clientWrites : new boolean[] {true, false}) {
            Pair p = c.pair();
            Socket w = clientWrites ? p.client : p.accepted;
            Socket gone = clientWrites ? p.accepted : p.client;
            String side = clientWrites ? "client" : "accepted";
            gone.close();
            sleep(100);
            OutputStream out = w.getOutputStream();
            String outcome = "no failure in 20 writes";
            for (int i = 0; i < 20; i++) {
                try {
                    out.write(pattern(10));
                } catch (java.io.IOException e) {
                    outcome = peerGone(e);
                    break;
                }
                sleep(30);
            }
            c.note(side + ".writes", outcome);
            c.note(side + ".isClosed", w.isClosed());
        }
    }

    /** available() counts the bytes that wait. */
    static void available(Ctx c) throws Exception {
        Pair p = c.pair();
        c.attempt("client.availableNone", () -> p.client.getInputStream().available());
        p.accepted.getOutputStream().write(pattern(10));
        p.client.getOutputStream().write(pattern(20));
        sleep(200);
        c.attempt("client.available>0", () -> p.client.getInputStream().available() > 0);
        c.attempt("accepted.available>0", () -> p.accepted.getInputStream().available() > 0);
        c.attempt("client.read", () -> p.client.getInputStream().read(new byte[100]));
        c.attempt("accepted.read", () -> p.accepted.getInputStream().read(new byte[100]));
        c.attempt("client.availableAfter", () -> p.client.getInputStream().available());
        p.accepted.shutdownOutput();
        sleep(100);
        c.attempt("client.availableAtEof", () -> p.client.getInputStream().available());
    }

    /** Options of an unconnected socket, and the checks Socket and the impl make. */
    static void optionsUnconnected(Ctx c) throws Exception {
        Socket s = c.client();
        c.note("isConnected", s.isConnected());
        c.note("isBound", s.isBound());
        c.note("getLocalPort", s.getLocalPort());
        c.note("getPort", s.getPort());
        c.note("getInetAddress", s.getInetAddress());
        c.attempt("getReceiveBufferSize>0", () -> s.getReceiveBufferSize() > 0);
        c.attempt("getSendBufferSize>0", () -> s.getSendBufferSize() > 0);
        c.attempt("getSoLinger", s::getSoLinger);
        c.attempt("getTcpNoDelay", s::getTcpNoDelay);
        c.attempt("getKeepAlive", s::getKeepAlive);
        c.attempt("getOOBInline", s::getOOBInline);
        c.attempt("getSoTimeout", s::getSoTimeout);
        c.attempt("getReuseAddress", s::getReuseAddress);
        c.attempt("getTrafficClass", s::getTrafficClass);
        c.attempt("getOption(TCP_NODELAY)", () -> s.getOption(StandardSocketOptions.TCP_NODELAY));
        c.attempt("getOption(SO_LINGER)", () -> s.getOption(StandardSocketOptions.SO_LINGER));
        c.attempt("setOption(TCP_NODELAY,null)", () -> {
            s.setOption(StandardSocketOptions.TCP_NODELAY, null);
            return "ok";
        });
        c.attempt("setOption(SO_RCVBUF,-1)", () -> {
            s.setOption(StandardSocketOptions.SO_RCVBUF, -1);
            return "ok";
        });
        c.attempt("setOption(SO_KEEPALIVE,true)", () -> {
            s.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            return s.getKeepAlive();
        });
        c.attempt("setOption(SO_LINGER,-1)", () -> {
            s.setOption(StandardSocketOptions.SO_LINGER, -1);
            return s.getSoLinger();
        });
        c.attempt("setSoTimeout(-1)", () -> {
            s.setSoTimeout(-1);
            return "ok";
        });
        c.attempt("getInputStream", () -> s.getInputStream() != null);
        c.attempt("getOutputStream", () -> s.getOutputStream() != null);
        c.attempt("shutdownOutput", () -> {
            s.shutdownOutput();
            return "ok";
        });
        c.attempt("sendUrgentData", () -> {
            s.sendUrgentData(1);
            return "ok";
        });
    }

    /** Options of connected sockets: defaults, set then get, TCP_NODELAY not forced on by shutdownOutput. */
    static void optionsConnected(Ctx c) throws Exception {
        Pair p = c.pair();
        for (Socket s : List.of(p.client, p.accepted)) {
            String side = s == p.client ? "client." : "accepted.";
            c.attempt(side + "getTcpNoDelay", s::getTcpNoDelay);
            c.attempt(side + "getKeepAlive", s::getKeepAlive);
            c.attempt(side + "getSoLinger", s::getSoLinger);
            c.attempt(side + "getOOBInline", s::getOOBInline);
            c.attempt(side + "getReceiveBufferSize>0", () -> s.getReceiveBufferSize() > 0);
            c.attempt(side + "getSendBufferSize>0", () -> s.getSendBufferSize() > 0);
            c.attempt(side + "setTcpNoDelay", () -> {
                s.setTcpNoDelay(true);
                boolean on = s.getTcpNoDelay();
                s.setTcpNoDelay(false);
                return on + "," + s.getTcpNoDelay();
            });
            c.attempt(side + "setKeepAlive", () -> {
                s.setKeepAlive(true);
                return s.getKeepAlive();
            });
            c.attempt(side + "setReceiveBufferSize", () -> {
                s.setReceiveBufferSize(32 * 1024);
                return s.getReceiveBufferSize() > 0;
            });
            c.attempt(side + "setOption(TCP_NODELAY,null)", () -> {
                s.setOption(StandardSocketOptions.TCP_NODELAY, null);
                return "ok";
            });
            c.attempt(side + "isBound", s::isBound);
            c.attempt(side + "isConnected", s::isConnected);
            c.attempt(side + "getLocalPort>0", () -> s.getLocalPort() > 0);
            c.attempt(side + "getPort>0", () -> s.getPort() > 0);
            c.attempt(side + "getInetAddress", () -> s.getInetAddress().isLoopbackAddress());
            c.attempt(side + "getLocalAddress", () -> s.getLocalAddress().isLoopbackAddress());
            c.attempt(side + "remoteMatchesPeerLocal", () -> {
                Socket other = s == p.client ? p.accepted : p.client;
                return s.getPort() == other.getLocalPort();
            });
            s.shutdownOutput();
            c.attempt(side + "getTcpNoDelayAfterShutdownOutput", s::getTcpNoDelay);
        }
    }

    /** supportedOptions() of a client socket, unconnected and connected. */
    static void supportedOptionsClient(Ctx c) throws Exception {
        Socket u = c.client();
        c.note("supported.unconnected", names(u.supportedOptions()));
        Pair p = c.pair(u);
        c.note("supported.connected", names(p.client.supportedOptions()));
    }

    /** supportedOptions() of an accepted socket. */
    static void supportedOptionsAccepted(Ctx c) throws Exception {
        Pair p = c.pair();
        c.note("supported.accepted", names(p.accepted.supportedOptions()));
    }

    private static List<String> names(Set<SocketOption<?>> options) {
        return options.stream().map(SocketOption::name).sorted().collect(Collectors.toList());
    }

    /** bind before connect: the port is taken at bind time, and kept by connect. */
    static void bind(Ctx c) throws Exception {
        Socket s = c.client();
        s.bind(new InetSocketAddress(LO, 0));
        int port = s.getLocalPort();
        c.note("isBound", s.isBound());
        c.note("getLocalPort>0", port > 0);
        c.note("getLocalAddress", s.getLocalAddress() != null && s.getLocalAddress().isLoopbackAddress());
        c.note("isConnected", s.isConnected());
        Socket other = c.client();
        c.attempt("bindSamePort", () -> {
            other.bind(new InetSocketAddress(LO, port));
            return "ok";
        });
        c.attempt("bindAgain", () -> {
            s.bind(new InetSocketAddress(LO, 0));
            return "ok";
        });
        Pair p = c.pair(s);
        c.note("connectedFromBoundPort", p.client.getLocalPort() == port && p.accepted.getPort() == port);
    }

    /** accept with SO_TIMEOUT times out; the server socket stays usable. */
    static void acceptTimeout(Ctx c) throws Exception {
        ServerSocket server = c.server();
        server.setSoTimeout(100);
        c.attempt("accept", server::accept);
        c.note("isClosed", server.isClosed());
        server.setSoTimeout(CONNECT_TIMEOUT);
        Socket s = c.client();
        s.connect(new InetSocketAddress(LO, server.getLocalPort()), CONNECT_TIMEOUT);
        c.attempt("acceptLater", () -> c.closeLater(server.accept()).isConnected());
    }

    /** JDK 17 ignores an interrupt of a thread blocked in accept. */
    static void acceptInterrupt(Ctx c) throws Exception {
        ServerSocket server = c.server();
        server.setSoTimeout(CONNECT_TIMEOUT);
        Job<String> job = c.start("blocked-accept", () -> {
            Socket s = c.closeLater(server.accept());
            return "accepted " + s.isConnected() + ", interrupted " + Thread.currentThread().isInterrupted();
        });
        sleep(150);
        c.note("blockedBeforeInterrupt", !job.done());
        boolean spins = Waits.spinsWhenInterrupted(job.thread, Duration.ofMillis(300));
        c.note("stillBlockedAfterInterrupt", !job.done());
        c.note("spins", spins);
        c.note("isClosed", server.isClosed());
        Socket s = c.client();
        s.connect(new InetSocketAddress(LO, server.getLocalPort()), CONNECT_TIMEOUT);
        c.note("blockedAccept", job.get(SO_TIMEOUT + 1000));
    }

    /** A client that connects and closes without a byte is still accepted, and reads -1 there. */
    static void silentClientCloses(Ctx c) throws Exception {
        ServerSocket server = c.server();
        server.setSoTimeout(CONNECT_TIMEOUT);
        Socket s = c.client();
        s.connect(new InetSocketAddress(LO, server.getLocalPort()), CONNECT_TIMEOUT);
        s.close();
        sleep(100);
        c.attempt("accept", () -> {
            Socket a = c.closeLater(server.accept());
            a.setSoTimeout(SO_TIMEOUT);
            return "read " + observe(() -> a.getInputStream().read());
        });
    }

    /** Connections still in the backlog when the server socket closes: their clients see a reset. */
    static void pendingWhenServerCloses(Ctx c) throws Exception {
        ServerSocket server = c.server();
        Socket s = c.client();
        s.setSoTimeout(SO_TIMEOUT);
        s.connect(new InetSocketAddress(LO, server.getLocalPort()), CONNECT_TIMEOUT);
        sleep(150);
        server.close();
        sleep(150);
        c.note("server.isClosed", server.isClosed());
        c.attempt("server.accept", server::accept);
        c.attempt("client.read", () -> s.getInputStream().read());
        c.attempt("client.write", () -> {
            try {
                s.getOutputStream().write(1);
                return "ok";
            } catch (java.io.IOException e) {
                return peerGone(e);
            }
        });
    }

    /** Options and state of a server socket. */
    static void serverSocketOptions(Ctx c) throws Exception {
        ServerSocket server = c.server();
        c.note("isBound", server.isBound());
        c.note("getLocalPort>0", server.getLocalPort() > 0);
        c.note("getInetAddress", server.getInetAddress().isLoopbackAddress());
        c.note("supportsIP_TOS", server.supportedOptions().contains(StandardSocketOptions.IP_TOS));
        c.note("supportsSO_RCVBUF", server.supportedOptions().contains(StandardSocketOptions.SO_RCVBUF));
        c.attempt("getReceiveBufferSize>0", () -> server.getReceiveBufferSize() > 0);
        c.attempt("getReuseAddress", server::getReuseAddress);
        c.attempt("getSoTimeout", server::getSoTimeout);
        c.attempt("setOption(IP_TOS)", () -> {
            server.setOption(StandardSocketOptions.IP_TOS, 0x10);
            return "ok";
        });
        c.attempt("setOption(SO_RCVBUF,null)", () -> {
            server.setOption(StandardSocketOptions.SO_RCVBUF, null);
            return "ok";
        });
        c.attempt("getOption(TCP_NODELAY)", () -> server.getOption(StandardSocketOptions.TCP_NODELAY));
        c.attempt("bindAgain", () -> {
            server.bind(new InetSocketAddress(LO, 0));
            return "ok";
        });
        ServerSocket unbound = c.closeLater(c.world == World.JDK || c.world == World.PASS_THROUGH ? new ServerSocket()
                : new org.mtcp.server.MtcpServerSocket());
        c.note("unbound.isBound", unbound.isBound());
        c.note("unbound.getLocalPort", unbound.getLocalPort());
        c.attempt("unbound.accept", unbound::accept);
        c.attempt("bindTakenPort", () -> {
            unbound.bind(new InetSocketAddress(LO, server.getLocalPort()));
            return "ok";
        });
        server.close();
        c.note("isClosed", server.isClosed());
        c.attempt("acceptAfterClose", server::accept);
        c.attempt("getSoTimeoutAfterClose", server::getSoTimeout);
        c.attempt("closeAgain", () -> {
            server.close();
            return "ok";
        });
    }

    /** supportedOptions() of a server socket. */
    static void serverSupportedOptions(Ctx c) throws Exception {
        ServerSocket server = c.server();
        c.note("supported.server", names(server.supportedOptions()));
    }

    /** Urgent data: discarded when OOBINLINE is off, read inline when on; both directions. */
    static void urgentData(Ctx c) throws Exception {
        for (boolean inline : new boolean[] {false, true}) {
            Pair p = c.pair();
            String mode = inline ? "inline." : "notInline.";
            c.attempt(mode + "setOOBInline", () -> {
                p.accepted.setOOBInline(inline);
                return p.accepted.getOOBInline();
            });
            c.attempt(mode + "client.sendUrgentData", () -> {
                p.client.sendUrgentData(1);
                return "ok";
            });
            c.write(mode + "client.write", p.client, new byte[] {'x'});
            c.attempt(mode + "accepted.read", () -> p.accepted.getInputStream().read());
            c.attempt(mode + "accepted.readMore", () -> {
                if (!inline) {
                    return "skipped";
                }
                return p.accepted.getInputStream().read();
            });
        }
        Pair p = c.pair();
        c.attempt("client.setOOBInline", () -> {
            p.client.setOOBInline(true);
            return p.client.getOOBInline();
        });
        c.attempt("accepted.sendUrgentData", () -> {
            p.accepted.sendUrgentData(2);
            return "ok";
        });
        c.write("accepted.write", p.accepted, new byte[] {'y'});
        c.attempt("client.read", () -> p.client.getInputStream().read());
    }
}
