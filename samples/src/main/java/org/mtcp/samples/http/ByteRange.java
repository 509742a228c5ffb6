package org.mtcp.samples.http;

import java.util.Locale;

/**
 * The single byte range this server supports (RFC 9110 14.1.2): {@code bytes=a-b},
 * {@code bytes=a-} and {@code bytes=-n}. Anything else, several ranges included, is ignored and the
 * whole file is sent, which RFC 9110 14.2 allows.
 */
final class ByteRange {
    /** A well-formed range that selects no byte of the file: answered with 416. */
    static final long[] UNSATISFIABLE = new long[0];

    private ByteRange() {
    }

    /**
     * @param header the {@code Range} field value
     * @param length the file's length
     * @return {@code {start, end}} with {@code end} exclusive, {@link #UNSATISFIABLE}, or
     *         {@code null} to ignore the field
     */
    static long[] parse(String header, long length) {
        int eq = header.indexOf('=');
        if (eq < 0 || !header.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals("bytes")) {
            return null;
        }
        String spec = header.substring(eq + 1).strip();
        int dash = spec.indexOf('-');
        if (dash < 0 || spec.indexOf(',') >= 0) {
            return null;
        }
        String first = spec.substring(0, dash).strip();
        String last = spec.substring(dash + 1).strip();
        if (first.isEmpty()) {
            // suffix: the last n bytes
            long n = number(last);
            if (n < 0) {
                return null;
            }
            if (n == 0 || length == 0) {
                return UNSATISFIABLE;
            }
            return new long[] {Math.max(0, length - n), length};
        }
        long start = number(first);
        long end = last.isEmpty() ? Long.MAX_VALUE : number(last);
        if (start < 0 || end < 0 || end < start) {
            return null;
        }
        if (start >= length) {
            return UNSATISFIABLE;
        }
        return new long[] {start, end >= length - 1 ? length : end + 1};
    }

    /** @return the decimal number, {@link Long#MAX_VALUE} when too large, -1 when not a number */
    private static long number(String digits) {
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }
}
