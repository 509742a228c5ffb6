package org.mtcp.server.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test scenario's {@code main} in a JVM of its own, with the test's classpath and system
 * properties of its own: the library reads its settings ({@code mtcp.freezeTimeoutMillis}, ...) once
 * per JVM, so a scenario that needs a short one cannot run in the test's JVM. The child prints what
 * it does and exits 0 only when every assertion held.
 */
public final class ChildJvm {
    /** How the child ended. */
    public static final class Result {
        /** The exit code, -1 when the child was killed. */
        public final int exitCode;
        /** Its standard output and error. */
        public final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
    }

    private ChildJvm() {
    }

    /**
     * @param main       the class whose {@code main} to run
     * @param properties system properties of the child
     * @param atMost     the child is killed after this long
     */
    public static Result run(Class<?> main, Map<String, String> properties, Duration atMost) throws IOException, InterruptedException {
        return run(List.of(), main, properties, atMost);
    }

    /**
     * @param prefix a command the child JVM runs under (e.g. {@code unshare -n}), or none
     * @param main       the class whose {@code main} to run
     * @param properties system properties of the child
     * @param atMost     the child is killed after this long
     */
    public static Result run(List<String> prefix, Class<?> main, Map<String, String> properties, Duration atMost)
            throws IOException, InterruptedException {
        return run(prefix, main, properties, atMost, List.of());
    }

    /**
     * @param main       the class whose {@code main} to run
     * @param properties system properties of the child
     * @param atMost     the child is killed after this long
     * @param args       the arguments of its {@code main}
     */
    public static Result runWithArgs(Class<?> main, Map<String, String> properties, Duration atMost, List<String> args)
            throws IOException, InterruptedException {
        return run(List.of(), main, properties, atMost, args);
    }

    private static Result run(List<String> prefix, Class<?> main, Map<String, String> properties, Duration atMost,
            List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        for (Map.Entry<String, String> e : properties.entrySet()) {
            cmd.add("-D" + e.getKey() + "=" + e.getValue());
        }
        String seed = System.getProperty("mtcp.test.seed");
        if (seed != null) {
            cmd.add("-Dmtcp.test.seed=" + seed);
        }
        cmd.add(main.getName());
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            } catch (IOException ignored) {
                // the child is gone
            }
        }, "test-child-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            reader.join(5000);
            return new Result(-1, "the child did not end within " + atMost + "; its output:\n"
                    + out.toString(StandardCharsets.UTF_8));
        }
        reader.join(5000);
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    /** A child's scenario. */
    public interface Scenario {
        /** @throws Exception when an assertion failed */
        void run() throws Exception;
    }

    /**
     * The child's side: runs the scenario, prints {@code ok} and exits 0 when it passes, prints the
     * failure and exits 1 when it does not.
     */
    public static void exitWith(String ok, Scenario scenario) {
        try {
            scenario.run();
            System.out.println(ok);
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    /** The test's side: the child ran its scenario to the end ({@code ok} printed) and exited 0. */
    public static void assertPassed(Result r, String ok) {
        if (r.exitCode != 0 || !r.output.contains(ok)) {
            throw new AssertionError("the child's scenario failed (exit code " + r.exitCode + "):\n" + r.output);
        }
    }
}
