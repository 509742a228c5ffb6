package org.mtcp.samples.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Files of pseudo-random bytes for the demo and the tests: the same seed and length always give the
 * same bytes (an xorshift64* stream), written fast and digested as they are written, so a download
 * can be checked against the SHA-256 without keeping anything else.
 */
final class GeneratedFile {
    private static final int BLOCK = 1 << 20;

    private GeneratedFile() {
    }

    /**
     * Writes {@code length} bytes derived from {@code seed} to {@code file}, replacing it.
     *
     * @param file   where
     * @param length how many bytes
     * @param seed   which bytes
     * @return the SHA-256 of the content, lower-case hex
     * @throws IOException when writing fails
     */
    static String write(Path file, long length, long seed) throws IOException {
        MessageDigest sha = sha256();
        long x = seed * 0x9E3779B97F4A7C15L | 1; // xorshift must not start at 0
        ByteBuffer block = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long left = length; left > 0; ) {
                block.clear();
                while (block.remaining() >= Long.BYTES) {
                    x ^= x >>> 12;
                    x ^= x << 25;
                    x ^= x >>> 27;
                    block.putLong(x * 0x2545F4914F6CDD1DL);
                }
                block.flip().limit((int) Math.min(BLOCK, left));
                sha.update(block.duplicate());
                while (block.hasRemaining()) {
                    out.write(block);
                }
                left -= block.limit();
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /**
     * Reads a stream to its end.
     *
     * @param in the stream (not closed)
     * @return the SHA-256 of what was read, lower-case hex, and how many bytes
     * @throws IOException when reading fails
     */
    static Digest digest(InputStream in) throws IOException {
        MessageDigest sha = sha256();
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            sha.update(buffer, 0, n);
            total += n;
        }
        return new Digest(HexFormat.of().formatHex(sha.digest()), total);
    }

    /**
     * A stream's digest.
     *
     * @param sha256 lower-case hex SHA-256
     * @param length bytes read
     */
    record Digest(String sha256, long length) {
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
