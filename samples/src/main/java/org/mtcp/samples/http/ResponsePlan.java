package org.mtcp.samples.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Objects;

/**
 * Everything one response is made of, decided when its request was parsed: status, the file and
 * the byte range to send, the file's metadata as it was then, and the time the response is dated.
 * The response head and any error body are pure functions of it, so a copy of the application that
 * resumes from a snapshot holding this plan writes exactly the bytes the first copy wrote (the
 * library drops those the client already has): no clock or file system is consulted again.
 *
 * @param status             HTTP status code (200, 206, 400, 404, 405, 413, 416, 501, 505)
 * @param file               the file, relative to the document root with {@code /} separators; empty for errors
 * @param start              first byte of the file to send
 * @param end                one past the last byte of the file to send
 * @param fileLength         the file's length when the request was parsed
 * @param lastModifiedMillis the file's modification time when the request was parsed
 * @param dateSeconds        the response's {@code Date}, seconds since the epoch
 * @param headOnly           a HEAD request: the head is sent, never a body
 * @param connection         what the response says about the connection
 */
record ResponsePlan(int status, String file, long start, long end, long fileLength, long lastModifiedMillis,
                    long dateSeconds, boolean headOnly, Connection connection) {

    /** What a response says about its connection, and so what happens after it. */
    enum Connection {
        /** HTTP/1.1 keep-alive: no header needed, the next request follows. */
        PERSISTENT,
        /** HTTP/1.0 client that asked for keep-alive: {@code Connection: keep-alive}, the next request follows. */
        KEEP_ALIVE_1_0,
        /** {@code Connection: close}: the server closes after this response. */
        CLOSE
    }

    /** The IMF-fixdate of RFC 9110 (always two-digit days, English names, GMT). */
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    ResponsePlan {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(connection, "connection");
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("bad range " + start + "-" + end);
        }
    }

    /**
     * An error response with a short text body.
     *
     * @param status      the error status
     * @param dateSeconds the response's date
     * @param headOnly    a HEAD request (no body sent)
     * @param connection  what happens to the connection after it
     * @return the plan
     */
    static ResponsePlan error(int status, long dateSeconds, boolean headOnly, Connection connection) {
        return new ResponsePlan(status, "", 0, 0, 0, 0, dateSeconds, headOnly, connection);
    }

    /** @return {@code true} for 200 and 206: a file is (or, for HEAD, would be) the body */
    boolean servesFile() {
        return status == 200 || status == 206;
    }

    /** @return {@code true} when file bytes are written after the head */
    boolean hasFileBody() {
        return servesFile() && !headOnly && end > start;
    }

    /** @return {@code true} when the server closes the connection after this response */
    boolean closesConnection() {
        return connection == Connection.CLOSE;
    }

    /** @return the {@code ETag} of the file: a strong validator from its length and modification time */
    String etag() {
        return "\"" + Long.toHexString(fileLength) + "-" + Long.toHexString(lastModifiedMillis) + "\"";
    }

    /** @return the {@code Last-Modified} of the file */
    String lastModified() {
        return HTTP_DATE.format(Instant.ofEpochMilli(lastModifiedMillis));
    }

    /** @return the short text body of an error response (empty for file responses) */
    byte[] errorBody() {
        if (servesFile()) {
            return new byte[0];
        }
        return (status + " " + reason(status) + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** @return the bytes written after the head: the error body, or nothing (file bytes come separately) */
    byte[] bodyAfterHead() {
        return headOnly || servesFile() ? new byte[0] : errorBody();
    }

    /** @return the response's status line and header fields, ending with the empty line */
    byte[] head() {
        StringBuilder h = new StringBuilder(256);
        h.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        h.append("Date: ").append(HTTP_DATE.format(Instant.ofEpochSecond(dateSeconds))).append("\r\n");
        h.append("Server: mtcp-samples\r\n");
        if (servesFile()) {
            h.append("Last-Modified: ").append(lastModified()).append("\r\n");
            h.append("ETag: ").append(etag()).append("\r\n");
            h.append("Accept-Ranges: bytes\r\n");
            h.append("Content-Type: ").append(contentType(file)).append("\r\n");
            h.append("Content-Length: ").append(end - start).append("\r\n");
            if (status == 206) {
                h.append("Content-Range: bytes ").append(start).append('-').append(end - 1).append('/')
                        .append(fileLength).append("\r\n");
            }
        } else {
            if (status == 416) {
                h.append("Accept-Ranges: bytes\r\n");
                h.append("Content-Range: bytes */").append(fileLength).append("\r\n");
            } else if (status == 405) {
                h.append("Allow: GET, HEAD\r\n");
            }
            h.append("Content-Type: text/plain; charset=US-ASCII\r\n");
            h.append("Content-Length: ").append(errorBody().length).append("\r\n");
        }
        switch (connection) {
            case CLOSE -> h.append("Connection: close\r\n");
            case KEEP_ALIVE_1_0 -> h.append("Connection: keep-alive\r\n");
            case PERSISTENT -> {
                // HTTP/1.1 connections persist unless a side says otherwise
            }
        }
        h.append("\r\n");
        return h.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * @param seconds seconds since the epoch
     * @return the IMF-fixdate of that second
     */
    static String httpDate(long seconds) {
        return HTTP_DATE.format(Instant.ofEpochSecond(seconds));
    }

    /**
     * @param status an HTTP status code this server sends
     * @return its reason phrase
     */
    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 206 -> "Partial Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 413 -> "Content Too Large";
            case 416 -> "Range Not Satisfiable";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status " + status;
        };
    }

    /**
     * @param file a file name
     * @return its media type, from the extension
     */
    static String contentType(String file) {
        String name = file.toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 || dot < name.lastIndexOf('/') ? "" : name.substring(dot + 1);
        return switch (ext) {
            case "html", "htm" -> "text/html; charset=UTF-8";
            case "txt" -> "text/plain; charset=UTF-8";
            case "css" -> "text/css; charset=UTF-8";
            case "js" -> "text/javascript; charset=UTF-8";
            case "json" -> "application/json";
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "gif" -> "image/gif";
            case "svg" -> "image/svg+xml";
            case "pdf" -> "application/pdf";
            default -> "application/octet-stream";
        };
    }
}
