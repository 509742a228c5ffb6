package org.mtcp.samples.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * The directory of static files the cooperating servers share, and the request-to-response
 * decisions about it: which file, which byte range, which status. Every server of a cluster has
 * the same view of it, so a session resumed on another server finds the file its state names.
 */
final class DocumentRoot {
    /** Served for a request naming a directory. */
    static final String INDEX = "index.html";

    private final Path root;

    /**
     * @param root an existing directory
     * @throws IOException when it is not one
     */
    DocumentRoot(Path root) throws IOException {
        this.root = root.toRealPath();
        if (!Files.isDirectory(this.root)) {
            throw new NoSuchFileException(root + " is not a directory");
        }
    }

    /** @return the directory, as a real path */
    Path path() {
        return root;
    }

    /**
     * Decides the response to a request: the only place that looks at the clock and at the file's
     * metadata, both captured in the plan so that the response can be written again identically.
     *
     * @param request     the parsed request
     * @param nowSeconds  the time to date the response with
     * @return the response to send
     */
    ResponsePlan plan(HttpRequest request, long nowSeconds) {
        ResponsePlan.Connection connection = !request.keepAlive() ? ResponsePlan.Connection.CLOSE
                : request.minorVersion() == 0 ? ResponsePlan.Connection.KEEP_ALIVE_1_0
                : ResponsePlan.Connection.PERSISTENT;
        boolean head = request.method().equals("HEAD");
        if (!head && !request.method().equals("GET")) {
            return ResponsePlan.error(405, nowSeconds, false, connection);
        }
        String name;
        try {
            name = relativeName(request.target());
        } catch (IllegalArgumentException e) {
            return ResponsePlan.error(400, nowSeconds, head, connection);
        }
        Path file = resolve(name);
        BasicFileAttributes attributes;
        try {
            if (Files.isDirectory(file)) {
                name = name.isEmpty() ? INDEX : name + "/" + INDEX;
                file = resolve(name);
            }
            // a link may not lead out of the document root
            Path real = file.toRealPath();
            if (!real.startsWith(root)) {
                return ResponsePlan.error(404, nowSeconds, head, connection);
            }
            attributes = Files.readAttributes(real, BasicFileAttributes.class);
        } catch (IOException e) {
            return ResponsePlan.error(404, nowSeconds, head, connection);
        }
        if (!attributes.isRegularFile() || !Files.isReadable(file)) {
            return ResponsePlan.error(404, nowSeconds, head, connection);
        }
        long length = attributes.size();
        long modified = attributes.lastModifiedTime().toMillis();
        ResponsePlan whole = new ResponsePlan(200, name, 0, length, length, modified, nowSeconds, head, connection);
        String range = request.single("Range");
        // Range applies to GET only (RFC 9110 14.2); If-Range sends the whole file when the file changed
        if (head || range == null || !ifRangeHolds(request, whole)) {
            return whole;
        }
        long[] bytes = ByteRange.parse(range, length);
        if (bytes == null) {
            return whole; // unsupported or invalid ranges are ignored, not refused
        }
        if (bytes == ByteRange.UNSATISFIABLE) {
            return new ResponsePlan(416, "", 0, 0, length, modified, nowSeconds, false, connection);
        }
        return new ResponsePlan(206, name, bytes[0], bytes[1], length, modified, nowSeconds, false, connection);
    }

    private static boolean ifRangeHolds(HttpRequest request, ResponsePlan whole) {
        List<String> ifRange = request.values("If-Range");
        if (ifRange.isEmpty()) {
            return true;
        }
        // a strong comparison with the current validators; anything else means "send it all"
        return ifRange.size() == 1 && (ifRange.get(0).equals(whole.etag()) || ifRange.get(0).equals(whole.lastModified()));
    }

    /**
     * Opens the file a plan names, checking that it is still what the plan was made from: a copy
     * that resumes a session must send the same bytes the first copy would have.
     *
     * @param plan a plan with a file body
     * @return the file, open for reading
     * @throws IOException when it is gone or has changed
     */
    FileChannel open(ResponsePlan plan) throws IOException {
        Path file = resolve(plan.file());
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class);
            if (now.size() != plan.fileLength() || now.lastModifiedTime().toMillis() != plan.lastModifiedMillis()) {
                throw new IOException(plan.file() + " changed while being served");
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Reads file bytes into a buffer, completely.
     *
     * @param channel  the open file
     * @param buffer   filled from its position to its limit
     * @param position file offset of the first byte
     * @throws IOException when the file ends first
     */
    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new IOException("file ended at " + position);
            }
            position += n;
        }
    }

    private Path resolve(String name) {
        return name.isEmpty() ? root : root.resolve(name);
    }

    /**
     * The file a request target names, relative to the root: the path only (no query), percent-decoded
     * as UTF-8, with dot segments removed so that it cannot climb out of the root.
     *
     * @param target the request target: origin form ({@code /a/b}) or absolute form ({@code http://h/a/b})
     * @return the relative name with {@code /} separators, empty for the root
     * @throws IllegalArgumentException when the target is not a path this server can serve
     */
    static String relativeName(String target) {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("not a URI: " + target); // RFC 3986 allows ASCII only
            }
        }
        String path = target;
        String lower = target.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            int slash = target.indexOf('/', lower.indexOf("//") + 2);
            path = slash < 0 ? "/" : target.substring(slash);
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("not an origin-form target: " + target);
        }
        int end = path.length();
        for (char c : new char[] {'?', '#'}) {
            int i = path.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        Deque<String> segments = new ArrayDeque<>();
        for (String raw : path.substring(0, end).split("/", -1)) {
            String segment = percentDecode(raw);
            if (segment.indexOf('\0') >= 0 || segment.indexOf('/') >= 0 || segment.indexOf('\\') >= 0) {
                throw new IllegalArgumentException("forbidden character in " + target);
            }
            if (segment.equals("..")) {
                segments.pollLast(); // RFC 3986 5.2.4: never above the root
            } else if (!segment.isEmpty() && !segment.equals(".")) {
                segments.addLast(segment);
            }
        }
        return String.join("/", segments);
    }

    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated percent-encoding in " + s);
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad percent-encoding in " + s);
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                bytes.write(c); // ASCII, checked above
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8: " + s, e);
        }
    }
}
