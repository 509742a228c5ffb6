package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The request parser reads exactly one request, no byte more, and refuses what it cannot serve. */
class RequestReaderTest {

    private static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static int status(String request) {
        return assertThrows(BadRequestException.class, () -> RequestReader.read(stream(request))).status();
    }

    @Test
    void readsExactlyOneRequestOfAPipeline() throws Exception {
        String second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        ByteArrayInputStream in = stream("GET /a?q=1 HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nRange:  bytes=1-2 \r\n\r\n" + second);
        HttpRequest a = RequestReader.read(in);
        assertEquals("GET", a.method());
        assertEquals("/a?q=1", a.target());
        assertEquals(1, a.minorVersion());
        assertEquals("bytes=1-2", a.single("range"), "names are case-insensitive, values trimmed");
        assertEquals("", a.single("X-Empty"));
        assertEquals(second.length(), in.available(), "the next request is left unread");
        assertEquals("/b", RequestReader.read(in).target());
        assertNull(RequestReader.read(in), "the stream ended between requests");
    }

    @Test
    void skipsAnAnnouncedBodyExactly() throws Exception {
        ByteArrayInputStream in = stream("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET");
        assertEquals("POST", RequestReader.read(in).method());
        assertEquals(3, in.available());
    }

    @Test
    void toleratesBareLineFeedsAndLeadingEmptyLines() throws Exception {
        HttpRequest r = RequestReader.read(stream("\r\n\nHEAD / HTTP/1.0\nConnection: keep-alive\n\n"));
        assertEquals("HEAD", r.method());
        assertEquals(0, r.minorVersion());
        assertTrue(r.keepAlive());
        assertFalse(RequestReader.read(stream("GET / HTTP/1.0\r\n\r\n")).keepAlive());
        assertFalse(RequestReader.read(stream("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n")).keepAlive());
        assertTrue(RequestReader.read(stream("GET / HTTP/1.1\r\nHost: h\r\n\r\n")).keepAlive());
    }

    @Test
    void endInsideARequestIsNotACleanClose() {
        assertThrows(EOFException.class, () -> RequestReader.read(stream("GET / HTTP/1.1\r\nHo")));
        assertThrows(EOFException.class, () -> RequestReader.read(stream("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nab")));
    }

    @Test
    void refusesWhatItCannotServe() throws IOException {
        assertEquals(400, status("GET /\r\n\r\n"));
        assertEquals(400, status("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(400, status("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 without Host");
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n"), "bare CR");
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: h\u0001\r\n\r\n"));
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"));
        assertEquals(400, status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"));
        assertEquals(413, status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n"));
        assertEquals(501, status("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
        assertEquals(505, status("GET / HTTP/2.0\r\nHost: h\r\n\r\n"));
        assertEquals(400, status("GET / HTTX/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(431, status("GET / HTTP/1.1\r\nHost: h\r\nX: " + "a".repeat(RequestReader.MAX_HEAD_BYTES) + "\r\n\r\n"));
        assertEquals(400, status("\r\n\r\n\r\n\r\n\r\n\r\n"));
    }

    @Test
    void tokenListsAreMatchedWholeAndCaseInsensitively() throws Exception {
        HttpRequest r = RequestReader.read(stream("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
        assertTrue(r.hasToken("connection", "close"));
        assertFalse(r.hasToken("Connection", "clo"));
        assertEquals(List.of("Upgrade, CLOSE"), r.values("CONNECTION"));
    }
}
