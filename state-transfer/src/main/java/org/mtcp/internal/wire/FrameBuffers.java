package org.mtcp.internal.wire;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The direct buffers that big control frames (a state record of megabytes) are written from and read
 * into, kept between migrations: a fresh direct megabyte costs more than the copy into it (the JDK
 * zeroes it and the kernel faults in every page). Two per process, one for each end of a migration
 * (both may run in one process), so the memory held does not grow with sessions or connections;
 * migrations beyond two at once allocate, and their buffers go to the collector.
 */
final class FrameBuffers {
    /**
     * The largest buffer kept: a 4 MiB state (the default {@code mtcp.maxStateBytes}) and its read
     * logs fit; a bigger frame's buffer is allocated and dropped.
     */
    static final int MAX_KEPT_CAPACITY = 8 * 1024 * 1024;
    private static final AtomicReferenceArray<ByteBuffer> KEPT = new AtomicReferenceArray<>(2);

    private FrameBuffers() {
    }

    /** @return a cleared direct buffer of at least {@code capacity} bytes, owned by the caller until {@link #release} */
    static ByteBuffer obtain(int capacity) {
        for (int i = 0; i < KEPT.length(); i++) {
            ByteBuffer b = KEPT.get(i);
            if (b != null && b.capacity() >= capacity && KEPT.compareAndSet(i, b, null)) {
                return b.clear();
            }
        }
        return ByteBuffer.allocateDirect(capacity);
    }

    /**
     * Keeps {@code b} for a later {@link #obtain} when there is room, or when it is bigger than one
     * kept; the caller must not touch it afterwards.
     */
    static void release(ByteBuffer b) {
        if (!b.isDirect() || b.capacity() > MAX_KEPT_CAPACITY) {
            return;
        }
        int smallest = -1;
        for (int i = 0; i < KEPT.length(); i++) {
            ByteBuffer k = KEPT.get(i);
            if (k == null) {
                if (KEPT.compareAndSet(i, null, b)) {
                    return;
                }
                continue;
            }
            if (k.capacity() < b.capacity() && (smallest < 0 || k.capacity() < KEPT.get(smallest).capacity())) {
                smallest = i;
            }
        }
        if (smallest >= 0) {
            ByteBuffer k = KEPT.get(smallest);
            if (k != null && k.capacity() < b.capacity()) {
                KEPT.compareAndSet(smallest, k, b); // losing a race only drops a buffer
            }
        }
    }
}
