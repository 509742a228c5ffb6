package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale by design: idle sessions cost a few kilobytes on each end and no thread of their own; buffers
 * are taken while data flows and given back when it stops.
 */
class IdleSessionsTest {
    private static final int SESSIONS = 1000;
    private static final long BUDGET_PER_END = 32 * 1024;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void idleSessionsCostLittleMemoryAndNoThreads() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (MtcpServerSocket server = new MtcpServerSocket(0, SESSIONS, lo)) {
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                while (accepted.size() < SESSIONS) {
                    try {
                        Socket a = server.accept();
                        byte[] b = a.getInputStream().readNBytes(100);
                        a.getOutputStream().write(b);
                        accepted.add(a);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.start();
            // warm up the library (its I/O thread, pools, classes) before the baseline
            try (MtcpSocket warm = new MtcpSocket(lo, server.getLocalPort())) {
                warm.getOutputStream().write(new byte[100]);
                warm.getInputStream().readNBytes(100);
            }
            long threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long memoryBefore = usedMemory();
            List<MtcpSocket> clients = new ArrayList<>();
            for (int i = 0; i < SESSIONS - 1; i++) {
                MtcpSocket c = new MtcpSocket(lo, server.getLocalPort());
                c.getOutputStream().write(new byte[100]);
                assertEquals(100, c.getInputStream().readNBytes(100).length);
                clients.add(c);
            }
            acceptor.join(60_000);
            assertEquals(SESSIONS, accepted.size());
            Thread.sleep(500); // delayed acknowledgements go out, buffers are given back
            long threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
            long perPair = (usedMemory() - memoryBefore) / (SESSIONS - 1);
            System.out.println("IdleSessionsTest: " + (SESSIONS - 1) + " idle sessions, " + perPair
                    + " bytes per client+server pair (heap + direct), threads " + threadsBefore + " -> " + threadsAfter);
            assertTrue(threadsAfter - threadsBefore <= 2, "library threads must not grow with sessions: " + threadsBefore
                    + " -> " + threadsAfter);
            assertTrue(perPair <= 2 * BUDGET_PER_END, "an idle session costs " + perPair / 2 + " bytes per end, budget "
                    + BUDGET_PER_END);
            for (MtcpSocket c : clients) {
                c.close();
            }
        }
    }

    private static long usedMemory() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            direct += pool.getMemoryUsed();
        }
        return heap + direct;
    }
}
