package org.mtcp.benchmarks.report;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Files;
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
 * Summarizes CPU samples: Flight Recorder files (from JMH's {@code -prof jfr}) or async-profiler's
 * collapsed stacks (from {@code -prof async:...;output=collapsed}, any other file name): the hottest
 * frames by self time, the library's ({@code org.mtcp}) methods by inclusive time, the threads that
 * burn CPU (JFR, or async-profiler with {@code threads=true}), and, for JFR, where threads sat in
 * native code (blocked in socket I/O or polls).
 *
 * <p>Usage: {@code java -cp benchmarks.jar org.mtcp.benchmarks.report.HotFrames [--top N] FILE...}
 */
public final class HotFrames {
    private final Map<String, Integer> self = new HashMap<>();
    private final Map<String, Integer> inclusive = new HashMap<>();
    private final Map<String, Integer> threads = new HashMap<>();
    private final Map<String, Integer> nativeTop = new HashMap<>();
    private final Map<String, Integer> nativeMtcp = new HashMap<>();
    /** thread group -> "innermost library frame -> innermost Java frame" -> samples (collapsed input). */
    private final Map<String, Map<String, Integer>> perThread = new HashMap<>();
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
            if (p.toString().endsWith(".jfr")) {
                for (RecordedEvent e : RecordingFile.readAllEvents(p)) {
                    h.accept(e);
                }
            } else {
                for (String line : Files.readAllLines(p)) {
                    h.collapsed(line);
                }
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

    /** One line of async-profiler's collapsed output: {@code frame;frame;...;leaf count}. */
    private void collapsed(String line) {
        int sp = line.lastIndexOf(' ');
        if (sp <= 0) {
            return;
        }
        int n;
        try {
            n = Integer.parseInt(line.substring(sp + 1).trim());
        } catch (NumberFormatException e) {
            return;
        }
        String[] frames = line.substring(0, sp).split(";");
        samples += n;
        self.merge(frames[frames.length - 1].replace('/', '.'), n, Integer::sum);
        Set<String> seen = new HashSet<>();
        for (String f : frames) {
            String m = f.replace('/', '.');
            if (m.startsWith("org.mtcp.") && seen.add(m)) {
                inclusive.merge(m, n, Integer::sum);
            }
        }
        if (frames[0].startsWith("[")) {
            String thread = frames[0].replaceAll("tid=\\d+", "").replaceAll("[-#]?\\d+", "-N").trim();
            threads.merge(thread, n, Integer::sum);
            String lib = "-";
            String java = "-";
            for (String f : frames) {
                String m = f.replace('/', '.');
                if (m.startsWith("org.mtcp.") && !m.startsWith("org.mtcp.benchmarks.")) {
                    lib = m;
                }
                if (m.indexOf('.') > 0 && !m.endsWith("_[k]") && !m.startsWith("[")) {
                    java = m;
                }
            }
            perThread.computeIfAbsent(thread, k -> new HashMap<>()).merge(lib + " -> " + java, n, Integer::sum);
        }
    }

    private String summary(List<Path> files, int top) {
        StringBuilder sb = new StringBuilder();
        sb.append("files: ").append(files).append('\n');
        sb.append("CPU samples (jdk.ExecutionSample, or async-profiler samples): ").append(samples).append('\n');
        table(sb, "hottest methods, self", self, samples, top);
        table(sb, "org.mtcp methods, inclusive (on stack)", inclusive, samples, top);
        table(sb, "threads by CPU samples", threads, samples, top);
        perThread.entrySet().stream()
                .sorted((a, b) -> threads.getOrDefault(b.getKey(), 0) - threads.getOrDefault(a.getKey(), 0))
                .limit(6)
                .forEach(e -> table(sb, "thread " + e.getKey() + ": innermost library frame -> innermost Java frame",
                        e.getValue(), threads.getOrDefault(e.getKey(), 0), 10));
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
