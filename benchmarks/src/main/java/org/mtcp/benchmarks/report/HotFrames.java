package org.mtcp.benchmarks.report;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Summarizes the CPU samples of Flight Recorder files (from JMH's {@code -prof jfr}): the hottest
 * methods by self time, the library's ({@code org.mtcp}) methods by inclusive time, the threads that
 * burn CPU, and where threads sat in native code (blocked in socket I/O or polls).
 *
 * <p>Usage: {@code java -cp benchmarks.jar org.mtcp.benchmarks.report.HotFrames [--top N] FILE.jfr...}
 */
public final class HotFrames {
    private final Map<String, Integer> self = new HashMap<>();
    private final Map<String, Integer> inclusive = new HashMap<>();
    private final Map<String, Integer> threads = new HashMap<>();
    private final Map<String, Integer> nativeTop = new HashMap<>();
    private final Map<String, Integer> nativeMtcp = new HashMap<>();
    private int samples;
    private int nativeSamples;

    private HotFrames() {
    }

    /**
     * @param args {@code [--top N] files}
     * @throws IOException when a file cannot be read
     */
    public static void main(String[] args) throws IOException {
        int top = 25;
        List<Path> files = new ArrayList<>();
        for (int k = 0; k < args.length; k++) {
            if (args[k].equals("--top") && k + 1 < args.length) {
                top = Integer.parseInt(args[++k]);
            } else {
                files.add(Paths.get(args[k]));
            }
        }
        HotFrames h = new HotFrames();
        for (Path p : files) {
            for (RecordedEvent e : RecordingFile.readAllEvents(p)) {
                h.accept(e);
            }
        }
        System.out.print(h.summary(files, top));
    }

    private static String method(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static String threadGroup(RecordedThread t) {
        if (t == null) {
            return "?";
        }
        String n = t.getJavaName() == null ? t.getOSName() : t.getJavaName();
        return n == null ? "?" : n.replaceAll("[-#]?\\d+", "-N");
    }

    private void accept(RecordedEvent e) {
        String type = e.getEventType().getName();
        RecordedStackTrace st = e.getStackTrace();
        if (st == null || st.getFrames().isEmpty()) {
            return;
        }
        List<RecordedFrame> frames = st.getFrames();
        if (type.equals("jdk.ExecutionSample")) {
            samples++;
            self.merge(method(frames.get(0)), 1, Integer::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
                String m = method(f);
                if (m.startsWith("org.mtcp.") && seen.add(m)) {
                    inclusive.merge(m, 1, Integer::sum);
                }
            }
            threads.merge(threadGroup(e.getThread("sampledThread")), 1, Integer::sum);
        } else if (type.equals("jdk.NativeMethodSample")) {
            nativeSamples++;
            nativeTop.merge(method(frames.get(0)), 1, Integer::sum);
            for (RecordedFrame f : frames) {
                String m = method(f);
                if (m.startsWith("org.mtcp.")) {
                    nativeMtcp.merge(m + " <- " + method(frames.get(0)), 1, Integer::sum);
                    break;
                }
            }
        }
    }

    private String summary(List<Path> files, int top) {
        StringBuilder sb = new StringBuilder();
        sb.append("files: ").append(files).append('\n');
        sb.append("CPU samples (jdk.ExecutionSample): ").append(samples).append('\n');
        table(sb, "hottest methods, self", self, samples, top);
        table(sb, "org.mtcp methods, inclusive (on stack)", inclusive, samples, top);
        table(sb, "threads by CPU samples", threads, samples, top);
        sb.append("\nnative samples (jdk.NativeMethodSample: threads in native code, mostly blocked): ")
                .append(nativeSamples).append('\n');
        table(sb, "native top frames", nativeTop, nativeSamples, 12);
        table(sb, "innermost org.mtcp frame <- native frame", nativeMtcp, nativeSamples, top);
        return sb.toString();
    }

    private static void table(StringBuilder sb, String title, Map<String, Integer> m, int total, int top) {
        sb.append("\n== ").append(title).append('\n');
        m.entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .limit(top)
                .forEach(e -> sb.append(String.format(Locale.ROOT, "%6d %5.1f%%  %s%n", e.getValue(),
                        total == 0 ? 0.0 : 100.0 * e.getValue() / total, e.getKey())));
    }
}
