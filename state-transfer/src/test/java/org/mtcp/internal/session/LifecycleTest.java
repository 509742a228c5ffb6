package org.mtcp.internal.session;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mtcp.internal.session.Lifecycle.CLOSED;
import static org.mtcp.internal.session.Lifecycle.CLOSING;
import static org.mtcp.internal.session.Lifecycle.FAILED;
import static org.mtcp.internal.session.Lifecycle.MOVED;
import static org.mtcp.internal.session.Lifecycle.OPEN;
import static org.mtcp.internal.session.Lifecycle.PEER_DONE;

/**
 * {@link Lifecycle#allowed} over every pair of states, against the table of the session's life:
 * forward only, OPEN never re-entered, a closing or failed session can only be released (or found
 * moved), MOVED and CLOSED final.
 */
class LifecycleTest {
    /** Where each state may go; every other pair is refused. */
    private static final Map<Lifecycle, Set<Lifecycle>> ALLOWED = Map.of(
            OPEN, EnumSet.of(PEER_DONE, CLOSING, MOVED, FAILED, CLOSED),
            PEER_DONE, EnumSet.of(CLOSING, MOVED, FAILED, CLOSED),
            CLOSING, EnumSet.of(MOVED, CLOSED),
            FAILED, EnumSet.of(MOVED, CLOSED),
            MOVED, EnumSet.noneOf(Lifecycle.class),
            CLOSED, EnumSet.noneOf(Lifecycle.class));

    @Test
    void everyPairAgainstTheTable() {
        assertEquals(EnumSet.allOf(Lifecycle.class), ALLOWED.keySet(), "the table covers every state");
        int allowed = 0;
        for (Lifecycle from : Lifecycle.values()) {
            for (Lifecycle to : Lifecycle.values()) {
                boolean expected = ALLOWED.get(from).contains(to);
                assertEquals(expected, Lifecycle.allowed(from, to), from + " -> " + to);
                allowed += expected ? 1 : 0;
            }
        }
        assertEquals(13, allowed, "transitions allowed in all");
    }

    @Test
    void movedAndClosedAreFinalAndNothingGoesBackToOpen() {
        for (Lifecycle to : Lifecycle.values()) {
            assertFalse(Lifecycle.allowed(MOVED, to), "MOVED -> " + to);
            assertFalse(Lifecycle.allowed(CLOSED, to), "CLOSED -> " + to);
        }
        for (Lifecycle from : Lifecycle.values()) {
            assertFalse(Lifecycle.allowed(from, OPEN), from + " -> OPEN");
            assertFalse(Lifecycle.allowed(from, from), from + " -> itself");
        }
    }

    @Test
    void everyStateButTheFinalOnesCanEndEitherWay() {
        for (Lifecycle from : EnumSet.of(OPEN, PEER_DONE, CLOSING, FAILED)) {
            assertTrue(Lifecycle.allowed(from, CLOSED), from + " -> CLOSED: a session can always be released");
            assertTrue(Lifecycle.allowed(from, MOVED), from + " -> MOVED: a commit elsewhere ends any live copy");
        }
    }
}
