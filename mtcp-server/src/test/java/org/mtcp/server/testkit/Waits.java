package org.mtcp.server.testkit;

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
