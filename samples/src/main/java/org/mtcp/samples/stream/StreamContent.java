package org.mtcp.samples.stream;

/**
 * The stream's content: byte {@code i} is a fixed hash of {@code i}. Any server can produce any part
 * of it without coordination, and the client can check every byte it receives, so a byte lost,
 * duplicated or reordered across a migration is always detected.
 */
public final class StreamContent {
    private StreamContent() {
    }

    /**
     * @param offset position in the stream, from 0
     * @return the byte at that position
     */
    public static byte byteAt(long offset) {
        // SplitMix64's finalizer: neighbouring offsets get unrelated bytes, so a shift by any
        // distance is caught at once (a counter pattern would hide shifts by its period)
        long z = offset * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (byte) ((z ^ (z >>> 31)) >>> 56);
    }

    /**
     * Writes the stream's bytes {@code [streamOffset, streamOffset + length)} into {@code buf}.
     *
     * @param buf          destination
     * @param from         first index written in {@code buf}
     * @param length       how many bytes
     * @param streamOffset stream position of the first byte
     */
    public static void fill(byte[] buf, int from, int length, long streamOffset) {
        for (int i = 0; i < length; i++) {
            buf[from + i] = byteAt(streamOffset + i);
        }
    }

    /**
     * Counts the bytes of {@code buf[from, from + length)} that differ from the stream at
     * {@code streamOffset}.
     *
     * @param buf          received bytes
     * @param from         first index checked
     * @param length       how many bytes
     * @param streamOffset stream position of {@code buf[from]}
     * @return the index in {@code [0, length)} of the first wrong byte, or -1 when all are right
     */
    public static int firstMismatch(byte[] buf, int from, int length, long streamOffset) {
        for (int i = 0; i < length; i++) {
            if (buf[from + i] != byteAt(streamOffset + i)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * @param buf          received bytes
     * @param from         first index checked
     * @param length       how many bytes
     * @param streamOffset stream position of {@code buf[from]}
     * @return how many of the bytes are wrong
     */
    public static int countMismatches(byte[] buf, int from, int length, long streamOffset) {
        int bad = 0;
        for (int i = 0; i < length; i++) {
            if (buf[from + i] != byteAt(streamOffset + i)) {
                bad++;
            }
        }
        return bad;
    }
}
