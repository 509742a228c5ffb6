package org.mtcp.internal.wire;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The frame header and the payload fields every {@link Message} is made of. The header is written
 * by {@link #frameHeader} and read by {@link #headerType} / {@link #headerLength}, and nowhere else;
 * payload fields are taken through {@link Reader}, which turns a short or malformed payload into a
 * {@link ProtocolException}.
 */
public final class Frames {
    private Frames() {
    }

    /** Bytes an address takes on the wire: family (u8), 4 or 16 address bytes, port (u16). */
    static int addressSize(InetSocketAddress a) {
        return 1 + a.getAddress().getAddress().length + 2;
    }

    /** @return bytes a list of addresses takes: count (u16) then each address */
    static int addressesSize(List<InetSocketAddress> list) {
        int n = 2;
        for (InetSocketAddress a : list) {
            n += addressSize(a);
        }
        return n;
    }

    /** @return bytes a string takes: length (u16) then UTF-8, cut to 1000 bytes */
    static int stringSize(String s) {
        return 2 + utf8(s).length;
    }

    /**
     * Writes a frame header. The only place a header is written.
     *
     * @param out    where
     * @param type   frame type
     * @param length payload length
     */
    static void frameHeader(ByteBuffer out, int type, int length) {
        if (length < 0 || length > Wire.MAX_LENGTH) {
            throw new IllegalArgumentException("frame length " + length);
        }
        out.putInt((type << 24) | length);
    }

    /** @return the frame type in a header word (the first four bytes of a frame, big-endian) */
    public static int headerType(int header) {
        return header >>> 24;
    }

    /** @return the payload length in a header word */
    public static int headerLength(int header) {
        return header & Wire.MAX_LENGTH;
    }

    /**
     * Writes the header of a DATA frame; its payload (stream bytes) follows from the send buffer.
     *
     * @param out    where
     * @param length payload length
     */
    public static void dataHeader(ByteBuffer out, int length) {
        frameHeader(out, Wire.DATA, length);
    }

    /**
     * @param magic {@link Wire#MAGIC} or {@link Wire#CONTROL_MAGIC}
     * @param first the connection's first frame
     * @return the opening of a connection: the magic, then the first frame, flipped for writing
     */
    public static ByteBuffer opening(byte[] magic, Message first) {
        ByteBuffer b = ByteBuffer.allocate(magic.length + Wire.HEADER_SIZE + first.payloadSize());
        b.put(magic);
        first.writeTo(b);
        return b.flip();
    }

    /** Writes an address. */
    static void putAddress(ByteBuffer out, InetSocketAddress a) {
        byte[] raw = a.getAddress().getAddress();
        out.put((byte) (raw.length == 4 ? 4 : 6));
        out.put(raw);
        out.putShort((short) a.getPort());
    }

    /** Writes a list of addresses. */
    static void putAddresses(ByteBuffer out, List<InetSocketAddress> list) {
        out.putShort((short) list.size());
        for (InetSocketAddress a : list) {
            putAddress(out, a);
        }
    }

    /** Writes a string (u16 length, UTF-8, cut to 1000 bytes). */
    static void putString(ByteBuffer out, String s) {
        byte[] b = utf8(s);
        out.putShort((short) b.length);
        out.put(b);
    }

    private static byte[] utf8(String s) {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        if (b.length > 1000) {
            byte[] cut = new byte[1000];
            System.arraycopy(b, 0, cut, 0, cut.length);
            return cut;
        }
        return b;
    }

    /** Reads payload fields; any shortfall or malformed field is a {@link ProtocolException}. */
    static final class Reader {
        private final ByteBuffer in;
        private final Object where;
        private final int type;

        /**
         * @param in   the payload
         * @param what the frame and connection, for error messages
         */
        Reader(ByteBuffer in, String what) {
            this(in, -1, what);
        }

        /**
         * A reader whose error messages are built only when needed (this runs for every ACK).
         *
         * @param in    the payload
         * @param type  the frame type
         * @param where the connection, for error messages
         */
        Reader(ByteBuffer in, int type, Object where) {
            this.in = in;
            this.type = type;
            this.where = where;
        }

        private String what() {
            return type < 0 ? String.valueOf(where) : Wire.typeName(type) + " on " + where;
        }

        /** @return an unsigned byte */
        public int u8() throws ProtocolException {
            try {
                return in.get() & 0xff;
            } catch (BufferUnderflowException e) {
                throw shortPayload();
            }
        }

        /** @return an unsigned 16-bit integer */
        public int u16() throws ProtocolException {
            try {
                return in.getShort() & 0xffff;
            } catch (BufferUnderflowException e) {
                throw shortPayload();
            }
        }

        /** @return a 64-bit integer */
        public long u64() throws ProtocolException {
            try {
                return in.getLong();
            } catch (BufferUnderflowException e) {
                throw shortPayload();
            }
        }

        /** @return a non-negative 64-bit offset */
        public long offset() throws ProtocolException {
            long v = u64();
            if (v < 0) {
                throw new ProtocolException("negative offset " + v + " in " + what());
            }
            return v;
        }

        /** @return {@code n} bytes */
        public byte[] bytes(int n) throws ProtocolException {
            if (n < 0 || n > in.remaining()) {
                throw shortPayload();
            }
            byte[] b = new byte[n];
            in.get(b);
            return b;
        }

        /** @return an address */
        public InetSocketAddress address() throws ProtocolException {
            int family = u8();
            int len;
            if (family == 4) {
                len = 4;
            } else if (family == 6) {
                len = 16;
            } else {
                throw new ProtocolException("address family " + family + " in " + what());
            }
            byte[] raw = bytes(len);
            int port = u16();
            try {
                InetAddress addr = InetAddress.getByAddress(raw);
                if ((family == 4) != (addr instanceof Inet4Address) && !(addr instanceof Inet6Address)) {
                    throw new ProtocolException("address family mismatch in " + what());
                }
                return new InetSocketAddress(addr, port);
            } catch (UnknownHostException e) {
                throw new ProtocolException("bad address in " + what() + ": " + e.getMessage());
            }
        }

        /** @return a list of at most {@link Wire#MAX_ALTERNATES} addresses */
        public List<InetSocketAddress> addresses() throws ProtocolException {
            int n = u16();
            if (n > Wire.MAX_ALTERNATES) {
                throw new ProtocolException(n + " addresses in " + what() + ", at most " + Wire.MAX_ALTERNATES);
            }
            List<InetSocketAddress> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(address());
            }
            return List.copyOf(list);
        }

        /** @return a string */
        public String string() throws ProtocolException {
            int n = u16();
            return new String(bytes(n), StandardCharsets.UTF_8);
        }

        /** @return bytes left in the payload */
        public int remaining() {
            return in.remaining();
        }

        /** @throws ProtocolException when bytes are left over */
        public void end() throws ProtocolException {
            if (in.hasRemaining()) {
                throw new ProtocolException(in.remaining() + " unexpected bytes at the end of " + what());
            }
        }

        private ProtocolException shortPayload() {
            return new ProtocolException("truncated " + what());
        }
    }
}
