package org.mtcp.server.testkit;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Bounded waits for conditions other threads make true (a report, an accept): never a timing assertion. */
public final class Waits {
    private Waits() {
    }

    /**
     * Polls until the condition holds or the time is up.
     *
     * @return whether the condition holds
     */
    public static boolean until(BooleanSupplier condition, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.getAsBoolean()) {
            if (deadline - System.nanoTime() <= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        return true;
    }

    /**
     * Interrupts {@code t}, blocked in a socket call, and watches it: whether it spins, that is spent
     * more than half of the watch on a CPU. A thread that waits uses next to none, a busy loop all of
     * it: this tells the two apart and measures no speed.
     */
    public static boolean spinsWhenInterrupted(Thread t, Duration watch) throws InterruptedException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long cpu0 = mx.getThreadCpuTime(t.getId());
        long wall0 = System.nanoTime();
        t.interrupt();
        TimeUnit.NANOSECONDS.sleep(watch.toNanos());
        long cpu = mx.getThreadCpuTime(t.getId()) - cpu0;
        return cpu > (System.nanoTime() - wall0) / 2;
    }

    /**
     * Waits until thread {@code t} is seen blocked in {@code className.method}: that method is on its
     * stack and the thread is parked (on a lock or a condition) or waiting in a selector. Observes
     * the blocking instead of sleeping and hoping.
     *
     * @throws AssertionError with the thread's state and stack when it was not seen blocked in time
     */
    public static void untilBlockedIn(Thread t, String className, String method, Duration atMost) throws InterruptedException {
        if (!until(() -> blockedIn(t, className, method), atMost)) {
            throw new AssertionError(t.getName() + " was not seen blocked in " + className + "." + method + " within " + atMost
                    + "; it is " + t.getState() + " at\n" + stack(t));
        }
    }

    /** @return whether {@code t} is now blocked in {@code className.method} (see {@link #untilBlockedIn}) */
    public static boolean blockedIn(Thread t, String className, String method) {
        Thread.State state = t.getState();
        StackTraceElement[] stack = t.getStackTrace();
        boolean inMethod = false;
        boolean selecting = false;
        for (StackTraceElement e : stack) {
            if (e.getClassName().equals(className) && e.getMethodName().equals(method)) {
                inMethod = true;
            }
            // a selector's blocking select (not selectNow): the thread is RUNNABLE in epoll_wait
            if (e.getClassName().startsWith("sun.nio.ch.") && e.getMethodName().equals("select")) {
                selecting = true;
            }
        }
        boolean parked = state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING || state == Thread.State.BLOCKED;
        return inMethod && (parked || (state == Thread.State.RUNNABLE && selecting)) && t.getState() == state;
    }

    /** @return the thread's stack, one frame a line */
    public static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("\tat ").append(e).append('\n');
        }
        return sb.toString();
    }
}
