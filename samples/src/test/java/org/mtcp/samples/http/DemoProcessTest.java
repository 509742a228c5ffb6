package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demos as a user runs them, in a JVM of their own on the module's run-time class path (its
 * classes and its compile and runtime dependencies, what {@code exec:java} runs them with; written by
 * the build to {@code target/runtime-classpath.txt}): what they print and their exit status.
 */
class DemoProcessTest {

    /** What a process printed and how it ended. */
    record Run(int exit, String out, String err) {
    }

    static Run java(String mainClass, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("demo", ".out");
        Path err = Files.createTempFile("demo", ".err");
        try {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", runtimeClassPath(), "-Djava.awt.headless=true", mainClass));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(mainClass + " did not end within 60 s: " + Files.readString(out));
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** @return {@code target/classes} and the run-time dependencies */
    static String runtimeClassPath() throws IOException {
        Path target = Path.of("target");
        return target.resolve("classes").toAbsolutePath() + java.io.File.pathSeparator
                + Files.readString(target.resolve("runtime-classpath.txt")).strip();
    }

    @Test
    void aBadOptionExitsNonZero() throws Exception {
        Run r = java(HttpDemo.class.getName(), "--bogus");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().startsWith("unknown option: --bogus\nusage: HttpDemo"), r.err());
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aSmallDemoPrintsNoLoggingFrameworkNotice() throws Exception {
        Run r = java(HttpDemo.class.getName(), "--size", "2", "--every", "1", "--servers", "2", "--rate", "4");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("identical to the file"), r.out());
        assertFalse((r.out() + r.err()).contains("SLF4J"), "no SLF4J notice: " + r.err());
    }
}
