package org.mtcp.internal.wire;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.internal.testkit.Seeds;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The frame decoder against random and mutated input, in random pieces, compared with a reference
 * decoder that reads the whole input at once: it hands over exactly the frames and DATA bytes before
 * the first header that breaks a limit, then throws a {@link ProtocolException} naming the connection
 * and the frame; it never throws anything else, never hangs, and never keeps more than the limit of a
 * frame. Every case prints its seed on failure; {@code -Dmtcp.test.seed=N} replays one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameParserFuzzTest {
    private static final int MAX_CONTROL = 512;
    private static final String CONNECTION = "test connection";

    @RegisterExtension
    final Seeds seeds = new Seeds();

    /**
     * What a decoder hands over, in order: a non-DATA frame whole, DATA payload as runs (consecutive
     * DATA bytes merged, however they were split into frames and pieces).
     */
    private record Event(int type, byte[] bytes) {
        @Override
        public String toString() {
            return Wire.typeName(type) + "(" + bytes.length + ")";
        }
    }

    /** Collects what the parser hands over. */
    private static final class Collector implements FrameParser.Handler {
        final List<Event> events = new ArrayList<>();

        @Override
        public void onData(ByteBuffer buf, int pos, int length) {
            byte[] b = new byte[length];
            buf.get(pos, b);
            addData(events, b);
        }

        @Override
        public void onFrame(int type, ByteBuffer payload) {
            assertTrue(payload.remaining() <= MAX_CONTROL, "a non-DATA payload beyond the limit was kept");
            byte[] b = new byte[payload.remaining()];
            payload.get(b);
            events.add(new Event(type, b));
        }
    }

    private static void addData(List<Event> events, byte[] b) {
        if (b.length == 0) {
            return;
        }
        Event last = events.isEmpty() ? null : events.get(events.size() - 1);
        if (last != null && last.type == Wire.DATA) {
            byte[] merged = Arrays.copyOf(last.bytes, last.bytes.length + b.length);
            System.arraycopy(b, 0, merged, last.bytes.length, b.length);
            events.set(events.size() - 1, new Event(Wire.DATA, merged));
        } else {
            events.add(new Event(Wire.DATA, b));
        }
    }

    /**
     * What the decoder must make of an input, from the reference decoder.
     *
     * @param events     what it hands over before the end of the input or the first bad header
     * @param errorNames words the ProtocolException for the first bad header must contain, or null for none
     * @param atBoundary whether the input ends at a frame boundary (no error)
     */
    private record Expected(List<Event> events, List<String> errorNames, boolean atBoundary) {
    }

    /** The reference decoder: the whole input at once, by the specification of the frame layout. */
    private static Expected reference(byte[] in, boolean dataAllowed) {
        List<Event> events = new ArrayList<>();
        int p = 0;
        while (p + Wire.HEADER_SIZE <= in.length) {
            int type = in[p] & 0xff;
            int len = ((in[p + 1] & 0xff) << 16) | ((in[p + 2] & 0xff) << 8) | (in[p + 3] & 0xff);
            if (type == Wire.DATA && !dataAllowed) {
                return new Expected(events, List.of(CONNECTION, "DATA"), false);
            }
            int limit = type == Wire.DATA ? Wire.MAX_DATA_PAYLOAD_ACCEPTED : MAX_CONTROL;
            if (len > limit) {
                return new Expected(events, List.of(CONNECTION, Wire.typeName(type), Integer.toString(len), "exceeds the limit"),
                        false);
            }
            p += Wire.HEADER_SIZE;
            int present = Math.min(len, in.length - p);
            if (type == Wire.DATA) {
                addData(events, Arrays.copyOfRange(in, p, p + present)); // handed over in place, as it arrives
            } else if (present == len) {
                events.add(new Event(type, Arrays.copyOfRange(in, p, p + len)));
            }
            p += present;
            if (present < len) {
                return new Expected(events, null, false);
            }
        }
        return new Expected(events, null, p == in.length);
    }

    private static void feed(byte[] input, Random r, FrameParser p, FrameParser.Handler h) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(input.length + 16);
        buf.put(0, input);
        int at = 0;
        while (at < input.length) {
            int n = Math.min(input.length - at, 1 + r.nextInt(64));
            p.parse(buf, at, at + n, h);
            at += n;
        }
    }

    private static byte[] validStream(Random r, ByteArrayOutputStream data, List<byte[]> frames) {
        return validStream(r, data, frames, new ArrayList<>());
    }

    /** @param headers where each frame header starts */
    private static byte[] validStream(Random r, ByteArrayOutputStream data, List<byte[]> frames, List<Integer> headers) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int f = 0; f < 50; f++) {
            headers.add(wire.size());
            boolean isData = r.nextBoolean();
            int len = isData ? r.nextInt(2000) : r.nextInt(MAX_CONTROL + 1);
            byte[] payload = new byte[len];
            r.nextBytes(payload);
            ByteBuffer h = ByteBuffer.allocate(4);
            Frames.frameHeader(h, isData ? Wire.DATA : Wire.ACK + r.nextInt(5), len);
            wire.write(h.array(), 0, 4);
            wire.write(payload, 0, len);
            if (isData) {
                data.write(payload, 0, len);
            } else {
                frames.add(payload);
            }
        }
        return wire.toByteArray();
    }

    private static void assertSameEvents(List<Event> expected, List<Event> got, String where) {
        int n = Math.min(expected.size(), got.size());
        for (int i = 0; i < n; i++) {
            Event e = expected.get(i);
            Event g = got.get(i);
            if (e.type != g.type || !Arrays.equals(e.bytes, g.bytes)) {
                fail(where + ": event " + i + " of " + expected.size() + " is " + g + ", expected " + e
                        + (e.type == g.type ? " with other bytes" : "") + "; events before it agree");
            }
        }
        assertEquals(expected.size(), got.size(), where + ": events handed over, expected " + expected.size() + " ("
                + expected.subList(n, expected.size()) + " more), got " + got.size() + " (" + got.subList(n, got.size())
                + " more)");
    }

    @RepeatedTest(20)
    void validStreamsDecodeExactlyWhateverThePieces() throws IOException {
        Random r = seeds.random();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<byte[]> frames = new ArrayList<>();
        byte[] wire = validStream(r, data, frames);
        List<byte[]> gotFrames = new ArrayList<>();
        ByteArrayOutputStream gotData = new ByteArrayOutputStream();
        FrameParser p = new FrameParser(CONNECTION, true, MAX_CONTROL);
        feed(wire, r, p, new FrameParser.Handler() {
            @Override
            public void onData(ByteBuffer buf, int pos, int length) {
                byte[] b = new byte[length];
                buf.get(pos, b);
                gotData.write(b, 0, length);
            }

            @Override
            public void onFrame(int type, ByteBuffer payload) {
                byte[] b = new byte[payload.remaining()];
                payload.get(b);
                gotFrames.add(b);
            }
        });
        assertArrayEquals(data.toByteArray(), gotData.toByteArray(), "DATA bytes");
        assertEquals(frames.size(), gotFrames.size(), "frames");
        for (int i = 0; i < frames.size(); i++) {
            assertArrayEquals(frames.get(i), gotFrames.get(i), "frame " + i);
        }
        assertTrue(p.atFrameBoundary(), "a whole stream ends at a frame boundary");
    }

    @RepeatedTest(200)
    void randomAndMutatedInputDecodesAsTheReferenceOrFailsNamingTheFrame() {
        Random r = seeds.random();
        byte[] input;
        String kind;
        if (r.nextBoolean()) {
            input = new byte[r.nextInt(5000)];
            r.nextBytes(input);
            kind = "random input of " + input.length + " bytes";
        } else {
            List<Integer> headers = new ArrayList<>();
            input = validStream(r, new ByteArrayOutputStream(), new ArrayList<>(), headers);
            int mutations = r.nextInt(6);
            for (int m = mutations; m > 0 && input.length > 0; m--) {
                input[r.nextInt(input.length)] = (byte) r.nextInt(256);
            }
            int cut = r.nextInt(4);
            if (cut == 1) {
                input = Arrays.copyOf(input, r.nextInt(input.length + 1)); // cut short anywhere
            } else if (cut == 2) {
                int at = headers.get(r.nextInt(headers.size())) + r.nextInt(Wire.HEADER_SIZE); // in or before a header
                input = Arrays.copyOf(input, Math.min(at, input.length));
            }
            kind = "valid stream of " + input.length + " bytes, " + mutations + " bytes changed"
                    + (cut == 1 || cut == 2 ? ", cut" : "");
        }
        boolean dataAllowed = r.nextBoolean();
        Expected expected = reference(input, dataAllowed);
        FrameParser p = new FrameParser(CONNECTION, dataAllowed, MAX_CONTROL);
        Collector c = new Collector();
        ProtocolException thrown = null;
        try {
            feed(input, r, p, c);
        } catch (ProtocolException e) {
            thrown = e;
        } catch (Throwable t) {
            throw new AssertionError(kind + ": only ProtocolException may escape the decoder", t);
        }
        String where = kind + (dataAllowed ? "" : ", no DATA allowed");
        if (expected.errorNames == null) {
            if (thrown != null) {
                fail(where + ": the input is well formed up to its end, yet the decoder threw " + thrown, thrown);
            }
            assertEquals(expected.atBoundary, p.atFrameBoundary(), where + ": at a frame boundary at the end");
        } else {
            assertNotNull(thrown, where + ": a header breaks a limit, expected a ProtocolException naming "
                    + expected.errorNames);
            for (String name : expected.errorNames) {
                assertTrue(thrown.getMessage().contains(name), where + ": the error names " + name + ": " + thrown.getMessage());
            }
        }
        assertSameEvents(expected.events, c.events, where);
    }

    @Test
    void referenceDecoderAgreesWithTheEncoderOnAKnownStream() {
        // the oracle itself, on a hand-made stream: ACK(8), DATA(3), DATA(2), FIN(0), a DATA header cut short
        ByteBuffer b = ByteBuffer.allocate(64);
        Frames.frameHeader(b, Wire.ACK, 8);
        b.putLong(42);
        Frames.frameHeader(b, Wire.DATA, 3);
        b.put(new byte[] {1, 2, 3});
        Frames.frameHeader(b, Wire.DATA, 2);
        b.put(new byte[] {4, 5});
        Frames.frameHeader(b, Wire.FIN, 0);
        b.put((byte) Wire.DATA);
        byte[] in = Arrays.copyOf(b.array(), b.position());
        Expected e = reference(in, true);
        assertEquals(List.of("ACK(8)", "DATA(5)", "FIN(0)"), e.events.stream().map(Event::toString).toList());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, e.events.get(1).bytes);
        assertEquals(false, e.atBoundary);
        assertEquals(null, e.errorNames);
        Expected noData = reference(in, false);
        assertEquals(List.of("ACK(8)"), noData.events.stream().map(Event::toString).toList());
        assertEquals(List.of(CONNECTION, "DATA"), noData.errorNames);
    }

    @Test
    void hugeLengthsAreRefusedFromTheHeaderAlone() {
        FrameParser p = new FrameParser(CONNECTION, true, MAX_CONTROL);
        ByteBuffer b = ByteBuffer.allocate(4);
        Frames.frameHeader(b, Wire.STATE_REPLY, Wire.MAX_LENGTH);
        ProtocolException e = assertThrows(ProtocolException.class, () -> p.parse(b, 0, 4, new Collector()));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
        FrameParser noData = new FrameParser("control connection", false, MAX_CONTROL);
        ByteBuffer d = ByteBuffer.allocate(4);
        Frames.frameHeader(d, Wire.DATA, 1);
        assertThrows(ProtocolException.class, () -> noData.parse(d, 0, 4, new Collector()));
        FrameParser big = new FrameParser("data connection", true, MAX_CONTROL);
        ByteBuffer huge = ByteBuffer.allocate(4);
        Frames.frameHeader(huge, Wire.DATA, Wire.MAX_DATA_PAYLOAD_ACCEPTED + 1);
        assertThrows(ProtocolException.class, () -> big.parse(huge, 0, 4, new Collector()));
    }

    /** A well-formed payload of the fields the reader test takes, in that order. */
    private static byte[] validFields(Random r) {
        List<InetSocketAddress> alternates = new ArrayList<>();
        for (int i = r.nextInt(3); i > 0; i--) {
            alternates.add(randomAddress(r));
        }
        InetSocketAddress a = randomAddress(r);
        byte[] text = new byte[r.nextInt(20)];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + r.nextInt(26));
        }
        String s = new String(text, StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(16 + Frames.addressSize(a) + 8 + Frames.addressesSize(alternates)
                + Frames.stringSize(s));
        byte[] id = new byte[16];
        r.nextBytes(id);
        b.put(id);
        Frames.putAddress(b, a);
        b.putLong(r.nextLong() & Long.MAX_VALUE);
        Frames.putAddresses(b, alternates);
        Frames.putString(b, s);
        return b.array();
    }

    private static InetSocketAddress randomAddress(Random r) {
        byte[] raw = new byte[r.nextBoolean() ? 4 : 16];
        r.nextBytes(raw);
        if (raw.length == 16) {
            raw[0] = (byte) 0x20; // a global unicast address, never an IPv4-mapped one
        }
        try {
            return new InetSocketAddress(java.net.InetAddress.getByAddress(raw), r.nextInt(65536));
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @RepeatedTest(100)
    void payloadFieldReadersRoundTripOrFailNamingTheFrame() {
        Random r = seeds.random();
        byte[] in;
        String kind;
        int choice = r.nextInt(3);
        if (choice == 0) {
            in = new byte[r.nextInt(80)];
            r.nextBytes(in);
            kind = "random payload of " + in.length + " bytes";
        } else {
            in = validFields(r);
            if (choice == 2) {
                in[r.nextInt(in.length)] = (byte) r.nextInt(256);
                if (r.nextBoolean()) {
                    in = Arrays.copyOf(in, r.nextInt(in.length + 1));
                }
                kind = "mutated payload of " + in.length + " bytes";
            } else {
                kind = "valid payload of " + in.length + " bytes";
            }
        }
        Frames.Reader reader = new Frames.Reader(ByteBuffer.wrap(in), "a test frame");
        byte[] id;
        InetSocketAddress a;
        long offset;
        List<InetSocketAddress> alternates;
        String s;
        try {
            id = reader.bytes(16);
            a = reader.address();
            offset = reader.offset();
            alternates = reader.addresses();
            s = reader.string();
            reader.end();
        } catch (ProtocolException e) {
            assertTrue(choice != 1, kind + ": a well-formed payload was refused: " + e.getMessage());
            assertTrue(e.getMessage().contains("a test frame"), kind + ": the error names the frame: " + e.getMessage());
            return;
        }
        // read to the end without an error: writing the fields again gives the same bytes (the string
        // compared as it was decoded: a malformed UTF-8 sequence reads as a replacement character)
        int beforeString = 16 + Frames.addressSize(a) + 8 + Frames.addressesSize(alternates);
        ByteBuffer again = ByteBuffer.allocate(beforeString);
        again.put(id);
        Frames.putAddress(again, a);
        again.putLong(offset);
        Frames.putAddresses(again, alternates);
        assertArrayEquals(again.array(), Arrays.copyOf(in, beforeString), kind + ": the fields before the string, written again");
        assertTrue(in.length >= beforeString + 2, kind + ": a string's length field follows");
        int n = ((in[beforeString] & 0xff) << 8) | (in[beforeString + 1] & 0xff);
        assertEquals(in.length, beforeString + 2 + n, kind + ": the string's length accounts for the rest of the payload");
        assertEquals(new String(in, beforeString + 2, n, StandardCharsets.UTF_8), s, kind + ": the string");
    }
}
