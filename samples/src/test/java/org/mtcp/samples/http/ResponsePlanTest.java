package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state the server exports, and the response bytes made from it: a state decodes to itself,
 * and the same plan always renders the same head, whatever the clock says by then.
 */
class ResponsePlanTest {
    private static final ResponsePlan RANGE = new ResponsePlan(206, "a/b.bin", 10, 20, 1000, 1_000_000_000_000L,
            1_700_000_000L, false, ResponsePlan.Connection.PERSISTENT);

    @Test
    void everyPhaseRoundTrips() throws IOException {
        HttpState awaiting = HttpState.awaiting(3);
        assertEquals(awaiting, HttpState.decode(awaiting.encode()));
        assertEquals(HttpState.awaiting(0), HttpState.decode(new byte[0]), "a new connection");
        HttpState ready = awaiting.ready(RANGE);
        assertEquals(ready, HttpState.decode(ready.encode()));
        HttpState sending = ready.sending(15);
        assertEquals(sending, HttpState.decode(sending.encode()));
        assertEquals(HttpState.awaiting(4), sending.completed());
        HttpState error = awaiting.ready(ResponsePlan.error(404, 5, true, ResponsePlan.Connection.CLOSE));
        assertEquals(error, HttpState.decode(error.encode()));
        assertThrows(IOException.class, () -> HttpState.decode(new byte[] {9, 0}));
        assertThrows(IOException.class, () -> HttpState.decode(new byte[] {1, 1, 0}));
        assertThrows(IllegalArgumentException.class, () -> ready.sending(21));
    }

    @Test
    void theHeadIsAFunctionOfThePlan() {
        String head = new String(RANGE.head(), StandardCharsets.ISO_8859_1);
        assertEquals("HTTP/1.1 206 Partial Content\r\n"
                + "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
                + "Server: mtcp-samples\r\n"
                + "Last-Modified: Sun, 09 Sep 2001 01:46:40 GMT\r\n"
                + "ETag: \"3e8-e8d4a51000\"\r\n"
                + "Accept-Ranges: bytes\r\n"
                + "Content-Type: application/octet-stream\r\n"
                + "Content-Length: 10\r\n"
                + "Content-Range: bytes 10-19/1000\r\n"
                + "\r\n", head);
        assertArrayEquals(RANGE.head(), RANGE.head());
        assertEquals("Thu, 01 Jan 1970 00:00:05 GMT", ResponsePlan.httpDate(5), "two-digit day");
        assertTrue(RANGE.hasFileBody());
        assertFalse(RANGE.closesConnection());
    }

    @Test
    void errorResponsesCarryTheirOwnBody() {
        ResponsePlan notFound = ResponsePlan.error(404, 0, false, ResponsePlan.Connection.KEEP_ALIVE_1_0);
        String head = new String(notFound.head(), StandardCharsets.ISO_8859_1);
        assertTrue(head.contains("Content-Length: 14\r\n"), head);
        assertTrue(head.contains("Connection: keep-alive\r\n"), head);
        assertEquals("404 Not Found\n", new String(notFound.bodyAfterHead(), StandardCharsets.US_ASCII));
        assertEquals(0, ResponsePlan.error(404, 0, true, ResponsePlan.Connection.CLOSE).bodyAfterHead().length, "HEAD");
        assertFalse(notFound.hasFileBody());
        ResponsePlan unsatisfiable = new ResponsePlan(416, "", 0, 0, 1000, 0, 0, false, ResponsePlan.Connection.CLOSE);
        head = new String(unsatisfiable.head(), StandardCharsets.ISO_8859_1);
        assertTrue(head.contains("Content-Range: bytes */1000\r\n"), head);
        assertTrue(head.contains("Connection: close\r\n"), head);
    }

    @Test
    void byteRanges() {
        assertArrayEquals(new long[] {0, 1}, ByteRange.parse("bytes=0-0", 10));
        assertArrayEquals(new long[] {2, 10}, ByteRange.parse("bytes=2-", 10));
        assertArrayEquals(new long[] {2, 10}, ByteRange.parse("BYTES = 2-99999999999999999999", 10));
        assertArrayEquals(new long[] {7, 10}, ByteRange.parse("bytes=-3", 10));
        assertArrayEquals(new long[] {0, 10}, ByteRange.parse("bytes=-30", 10));
        assertSame(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=10-", 10));
        assertSame(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=-0", 10));
        assertSame(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=-5", 0));
        assertNull(ByteRange.parse("bytes=5-4", 10), "invalid: ignored");
        assertNull(ByteRange.parse("bytes=0-1,3-4", 10), "several ranges: ignored");
        assertNull(ByteRange.parse("items=0-1", 10), "another unit: ignored");
        assertNull(ByteRange.parse("bytes=a-b", 10));
        assertNull(ByteRange.parse("bytes=-", 10));
    }

    @Test
    void targetsMapIntoTheRoot() {
        assertEquals("a/b c.txt", DocumentRoot.relativeName("/a/b%20c.txt?x=1#f"));
        assertEquals("", DocumentRoot.relativeName("/"));
        assertEquals("x", DocumentRoot.relativeName("/../../x"));
        assertEquals("x", DocumentRoot.relativeName("/a/./%2E%2E/x"));
        assertEquals("p", DocumentRoot.relativeName("http://host:80/p"));
        assertEquals("caf\u00e9", DocumentRoot.relativeName("/caf%C3%A9"));
        for (String bad : new String[] {"*", "x", "/a%2fb", "/%00", "/%zz", "/%C3", "/\u00e9", "/a b"}) {
            assertThrows(IllegalArgumentException.class, () -> DocumentRoot.relativeName(bad), bad);
        }
    }
}
