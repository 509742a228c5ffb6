package org.mtcp.samples.http;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one HTTP/1.x request head, and any body it announces, byte by byte from the socket's own
 * stream: exactly the request's bytes and not one more.
 *
 * <p>This is the MTCP contract (see {@link org.mtcp.api.MtcpOptions#APP_STATE}): the exported state
 * says which requests were consumed, and on migration the destination's copy re-reads every byte
 * read after the last export. A {@code BufferedReader} or {@code BufferedInputStream} would read
 * ahead into the next pipelined request, bytes no snapshot accounts for. Requests are small, so a
 * {@code read()} per byte costs nothing that matters next to the response.
 */
final class RequestReader {
    /** Longest request head accepted (request line and fields). */
    static final int MAX_HEAD_BYTES = 16 * 1024;
    /** Longest request body read and discarded (GET and HEAD carry none in practice). */
    static final int MAX_BODY_BYTES = 64 * 1024;
    /** Empty lines tolerated before a request line (RFC 9112 2.2 asks to ignore at least one). */
    private static final int MAX_LEADING_EMPTY_LINES = 4;

    private final InputStream in;
    private int headBytes;

    private RequestReader(InputStream in) {
        this.in = in;
    }

    /**
     * Reads the next request.
     *
     * @param in the socket's input stream, unbuffered
     * @return the request, or {@code null} when the stream ended before its first byte (the client
     *         closed the connection between requests)
     * @throws BadRequestException when the request is malformed or unsupported: answer and close
     * @throws EOFException        when the stream ended inside the request
     * @throws IOException         when reading fails
     */
    static HttpRequest read(InputStream in) throws IOException, BadRequestException {
        return new RequestReader(in).request();
    }

    private HttpRequest request() throws IOException, BadRequestException {
        String line = line(true);
        if (line == null) {
            return null;
        }
        for (int empty = 0; line.isEmpty(); empty++) {
            if (empty == MAX_LEADING_EMPTY_LINES) {
                throw new BadRequestException(400, "empty lines instead of a request line");
            }
            line = line(false);
        }
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !isToken(parts[0]) || parts[1].isEmpty()) {
            throw new BadRequestException(400, "malformed request line: " + line);
        }
        int minor = version(parts[2]);
        List<HttpRequest.Field> fields = new ArrayList<>();
        while (!(line = line(false)).isEmpty()) {
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                throw new BadRequestException(400, "obsolete line folding"); // RFC 9112 5.2 allows 400
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || !isToken(line.substring(0, colon))) {
                throw new BadRequestException(400, "malformed header field: " + line);
            }
            fields.add(new HttpRequest.Field(line.substring(0, colon), line.substring(colon + 1).strip()));
        }
        HttpRequest request = new HttpRequest(parts[0], parts[1], minor, fields);
        if (minor >= 1 && request.values("Host").size() != 1) {
            throw new BadRequestException(400, "HTTP/1.1 request without exactly one Host"); // RFC 9112 3.2
        }
        skipBody(request);
        return request;
    }

    /** Reads and drops the body a request announces, so that the next request starts where expected. */
    private void skipBody(HttpRequest request) throws IOException, BadRequestException {
        if (!request.values("Transfer-Encoding").isEmpty()) {
            throw new BadRequestException(501, "request transfer codings are not supported");
        }
        List<String> lengths = request.values("Content-Length");
        if (lengths.isEmpty()) {
            return;
        }
        String first = lengths.get(0);
        for (String other : lengths) {
            if (!other.equals(first)) {
                throw new BadRequestException(400, "conflicting Content-Length");
            }
        }
        if (first.isEmpty() || first.length() > 18 || !first.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new BadRequestException(400, "malformed Content-Length: " + first);
        }
        long length = Long.parseLong(first);
        if (length > MAX_BODY_BYTES) {
            throw new BadRequestException(413, "request body of " + length + " bytes");
        }
        for (long left = length; left > 0; left--) {
            if (in.read() < 0) {
                throw new EOFException("stream ended in a request body");
            }
        }
    }

    private static int version(String version) throws BadRequestException {
        if (version.length() != 8 || !version.startsWith("HTTP/") || version.charAt(6) != '.'
                || !Character.isDigit(version.charAt(5)) || !Character.isDigit(version.charAt(7))) {
            throw new BadRequestException(400, "malformed HTTP version: " + version);
        }
        if (version.charAt(5) != '1') {
            throw new BadRequestException(505, "unsupported HTTP version: " + version);
        }
        return version.charAt(7) - '0';
    }

    /**
     * Reads one line, without its CRLF (a bare LF also ends it, RFC 9112 2.2).
     *
     * @param first whether this could be the request's first byte
     * @return the line, or {@code null} when {@code first} and the stream ended at once
     */
    private String line(boolean first) throws IOException, BadRequestException {
        StringBuilder line = new StringBuilder(64);
        boolean cr = false;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (first && line.length() == 0 && !cr) {
                    return null;
                }
                throw new EOFException("stream ended in a request head");
            }
            first = false;
            if (++headBytes > MAX_HEAD_BYTES) {
                throw new BadRequestException(431, "request head longer than " + MAX_HEAD_BYTES + " bytes");
            }
            if (b == '\n') {
                return line.toString();
            }
            if (cr) {
                throw new BadRequestException(400, "bare CR in request head"); // RFC 9112 2.2
            }
            if (b == '\r') {
                cr = true;
            } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
                throw new BadRequestException(400, "control character " + b + " in request head");
            } else {
                line.append((char) b); // ISO-8859-1, as RFC 9110 5.5 reads field values
            }
        }
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (byte b : s.getBytes(StandardCharsets.ISO_8859_1)) {
            if (b <= 0x20 || b >= 0x7f || "\"(),/:;<=>?@[\\]{}".indexOf(b) >= 0) {
                return false;
            }
        }
        return true;
    }
}
