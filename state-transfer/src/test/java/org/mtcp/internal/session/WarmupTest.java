package org.mtcp.internal.session;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up does real work: each round checks its own round trips (key agreement, proofs, the state record,
 * every migration frame, a sealed frame) and throws when one does not give back what went in, and the preload
 * finds the classes of a package where they were loaded from.
 */
class WarmupTest {

    @Test
    void everyRoundTripOfARoundComesBackIntact() {
        for (int i = 0; i < 12; i++) { // the first rounds include the key exchange, the later ones not
            int round = i;
            assertDoesNotThrow(() -> Warmup.round(round), "warm-up round " + i);
        }
    }

    @Test
    void thePreloadFindsTheClassesOfAPackage() {
        int loaded = Warmup.preload(Warmup.class);
        // org.mtcp.internal.session holds some twenty classes and their nested ones
        assertTrue(loaded >= 20, "the preload found " + loaded + " classes in org.mtcp.internal.session");
    }
}
