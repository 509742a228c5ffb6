package org.mtcp.internal.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The seed of a randomized test: {@code -Dmtcp.test.seed=N} replays a run, else each test (each
 * repetition of a repeated test) draws a fresh one. Registered with {@code @RegisterExtension} on an
 * instance field, it puts the seed in front of the message of every failure of a test that drew one
 * (failed assertions, unexpected exceptions, timeouts), so that any failure can be replayed.
 */
public final class Seeds implements TestExecutionExceptionHandler {
    /** The system property that fixes the seed. */
    public static final String PROPERTY = "mtcp.test.seed";

    private Long seed;

    /** @return this test's seed: the one given by {@value #PROPERTY}, else a fresh one */
    public synchronized long seed() {
        if (seed == null) {
            String given = System.getProperty(PROPERTY);
            seed = given == null || given.isBlank() ? ThreadLocalRandom.current().nextLong() : Long.parseLong(given.trim());
        }
        return seed;
    }

    /** @return a generator seeded with {@link #seed()} */
    public Random random() {
        return new Random(seed());
    }

    /** @return "seed N (replay: -Dmtcp.test.seed=N)", for messages */
    public String describe() {
        long s = seed();
        return "seed " + s + " (replay: -D" + PROPERTY + "=" + s + ")";
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        boolean drawn;
        synchronized (this) {
            drawn = seed != null;
        }
        if (!drawn) {
            throw failure;
        }
        throw new AssertionError(describe() + ": " + failure, failure);
    }
}
