package org.mtcp.samples.stream;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sample's wire formats, content, pacing and options, without any network. */
class StreamFormatsTest {

    @Test
    void requestIsReadExactlyLeavingWhatFollows() throws IOException {
        StreamRequest r = new StreamRequest(256 * 1024, 1024);
        byte[] wire = Arrays.copyOf(r.encode(), StreamRequest.BYTES + 5);
        ByteArrayInputStream in = new ByteArrayInputStream(wire);
        assertEquals(r, StreamRequest.read(in));
        assertEquals(5, in.available(), "the server must not read past its request");
    }

    @Test
    void shortOrForeignRequestsAreRejected() {
        byte[] wire = new StreamRequest(10, 1).encode();
        assertThrows(EOFException.class, () -> StreamRequest.read(new ByteArrayInputStream(wire, 0, 7)));
        wire[0] ^= 1;
        assertThrows(ProtocolException.class, () -> StreamRequest.read(new ByteArrayInputStream(wire)));
        assertThrows(IllegalArgumentException.class, () -> new StreamRequest(10, 0));
        assertThrows(IllegalArgumentException.class, () -> new StreamRequest(-1, 10));
    }

    @Test
    void stateRoundTripsAtEveryPaddedSize() {
        StreamState s = StreamState.start(new StreamRequest(10_000, 1024)).advance().advance();
        for (int size : new int[] {StreamState.MIN_BYTES, 2048, 10 * 1024, 16 * 1024}) {
            byte[] snapshot = s.encode(size);
            assertEquals(size, snapshot.length);
            assertEquals(s, StreamState.decode(snapshot));
        }
        assertThrows(IllegalArgumentException.class, () -> s.encode(StreamState.MIN_BYTES - 1));
        assertThrows(IllegalArgumentException.class, () -> StreamState.decode(new byte[2048]));
    }

    @Test
    void stateWalksTheChunksWithAShortLastOne() {
        StreamState s = StreamState.start(new StreamRequest(2500, 1024));
        assertEquals(3, s.chunkCount());
        assertEquals(1024, s.nextChunkBytes());
        s = s.advance().advance();
        assertEquals(2048, s.offset());
        assertEquals(452, s.nextChunkBytes());
        s = s.advance();
        assertTrue(s.done());
        StreamState end = s;
        assertThrows(IllegalArgumentException.class, end::advance);
        assertTrue(StreamState.start(new StreamRequest(0, 1024)).done());
    }

    @Test
    void contentIsDeterministicAndCatchesShifts() {
        byte[] a = new byte[4096];
        StreamContent.fill(a, 0, a.length, 1000);
        byte[] b = new byte[4096];
        StreamContent.fill(b, 0, b.length, 1000);
        assertArrayEquals(a, b);
        assertEquals(-1, StreamContent.firstMismatch(a, 0, a.length, 1000));
        for (int shift = 1; shift <= 8; shift++) {
            int at = StreamContent.firstMismatch(a, 0, a.length, 1000 + shift);
            assertTrue(at >= 0 && at < 8, "a stream shifted by " + shift + " is caught at once, not at " + at);
        }
        a[100] ^= 0x10;
        assertEquals(100, StreamContent.firstMismatch(a, 0, a.length, 1000));
        assertEquals(1, StreamContent.countMismatches(a, 0, a.length, 1000));
    }

    @Test
    void pacingIsHealthyThenRampsThenStays() {
        ServerPacing p = new ServerPacing(Duration.ofMillis(4), 32 * 1024, 32 * 1024, Duration.ofMillis(24));
        assertEquals(4_000_000, p.delayNanos(0));
        assertEquals(4_000_000, p.delayNanos(32 * 1024 - 1));
        assertEquals(14_000_000, p.delayNanos(48 * 1024));
        assertEquals(24_000_000, p.delayNanos(64 * 1024));
        assertEquals(24_000_000, p.delayNanos(1 << 30));
        assertEquals(256_000, p.bestBytesPerSecond(1024), 1e-6);
        assertEquals(24_000_000, new ServerPacing(Duration.ofMillis(4), 0, 0, Duration.ofMillis(24)).delayNanos(0));
        assertEquals(0, ServerPacing.unpaced().delayNanos(1 << 30));
        assertThrows(IllegalArgumentException.class,
                () -> new ServerPacing(Duration.ofMillis(5), 0, 0, Duration.ofMillis(4)));
    }

    @Test
    void optionsParseSizesListsAndHelp() {
        DemoOptions d = DemoOptions.parse("--stream", "64K", "--chunk", "512", "--states", "2K,10KiB,100",
                "--no-baseline", "--base-delay", "0.5", "--degrade-after", "8k", "--ramp", "0", "--max-delay", "3",
                "--alpha", "0.5", "--threshold", "0.6", "--dwell", "20", "--servers", "3", "--out", "x/y");
        assertEquals(64 * 1024, d.streamBytes());
        assertEquals(512, d.chunkBytes());
        assertEquals(List.of(2048, 10240, 100), d.stateSizes());
        assertFalse(d.baseline());
        assertEquals(Duration.ofNanos(500_000), d.pacing().baseDelay());
        assertEquals(8192, d.pacing().degradeAfterBytes());
        assertEquals(0, d.pacing().rampBytes());
        assertEquals(Duration.ofMillis(3), d.pacing().maxDelay());
        assertEquals(0.5, d.alpha());
        assertEquals(0.6, d.threshold());
        assertEquals(Duration.ofMillis(20), d.minDwell());
        assertEquals(3, d.servers());
        assertEquals(Path.of("x/y"), d.out());
        assertNull(DemoOptions.parse("--help"));
    }

    @Test
    void defaultsAreTheThesisExperiment() {
        DemoOptions d = DemoOptions.parse();
        assertEquals(256 * 1024, d.streamBytes());
        assertEquals(1024, d.chunkBytes());
        assertEquals(List.of(2048, 10240, 16384), d.stateSizes());
        assertTrue(d.baseline());
        assertEquals(0.4, d.alpha());
        assertEquals(0.7, d.threshold());
    }

    @Test
    void badOptionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--bogus", "1"));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--stream"));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--stream", "lots"));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--states", "8"));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--alpha", "0"));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--threshold", "1.5"));
        assertThrows(IllegalArgumentException.class, () -> DemoOptions.parse("--states", "", "--no-baseline"));
    }
}
