package org.mtcp.client;

import org.junit.jupiter.api.Test;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SmoothedThroughputPolicyTest {
    private static final long MS = 1_000_000L;
    private final InetSocketAddress s1 = new InetSocketAddress("127.0.0.1", 7001);
    private final InetSocketAddress s2 = new InetSocketAddress("127.0.0.1", 7002);
    private final InetSocketAddress s3 = new InetSocketAddress("127.0.0.1", 7003);

    @Test
    void smoothsAsTheThesisFormulaSays() {
        SmoothedThroughputPolicy p = new SmoothedThroughputPolicy(0.4, 0.7, Duration.ZERO);
        List<InetSocketAddress> alts = List.of(s2);
        assertNull(p.onData(1024, 0, s1, alts));             // first arrival: only a time reference
        assertNull(p.onData(1000, 1 * MS, s1, alts));        // C = 1000 B / 1 ms = 1e6 B/s, S = C
        assertEquals(1.0e6, p.smoothed(), 1e-6);
        assertNull(p.onData(2000, 2 * MS, s1, alts));        // C = 2e6: S = 0.4*2e6 + 0.6*1e6 = 1.4e6
        assertEquals(1.4e6, p.smoothed(), 1e-6);
        assertEquals(1.4e6, p.maximum(), 1e-6);
        assertNull(p.onData(1000, 3 * MS, s1, alts));        // C = 1e6: S = 0.4e6 + 0.84e6 = 1.24e6 >= 0.98e6
        assertEquals(1.24e6, p.smoothed(), 1e-6);
        // C = 250 B / 1 ms = 2.5e5: S = 0.1e6 + 0.744e6 = 0.844e6 < 0.7 * 1.4e6 = 0.98e6: move
        assertEquals(s2, p.onData(250, 4 * MS, s1, alts));
        assertEquals(0.844e6, p.smoothed(), 1e-6);
    }

    @Test
    void sameTimestampArrivalsAreMergedIntoTheNextSample() {
        SmoothedThroughputPolicy p = new SmoothedThroughputPolicy(0.4, 0.7, Duration.ZERO);
        p.onData(1, 0, s1, List.of());
        p.onData(500, 10 * MS, s1, List.of());
        p.onData(500, 10 * MS, s1, List.of());               // same instant: held back
        assertEquals(500 / 0.010, p.smoothed(), 1e-6);
        p.onData(1000, 20 * MS, s1, List.of());              // C = (500 + 1000) B / 10 ms = 1.5e5
        assertEquals(0.4 * 1.5e5 + 0.6 * 5.0e4, p.smoothed(), 1e-6);
    }

    @Test
    void waitsTheDwellTimeAndDoesNotAskTwiceWhileAMigrationIsPending() {
        SmoothedThroughputPolicy p = new SmoothedThroughputPolicy(0.4, 0.7, Duration.ofMillis(100));
        List<InetSocketAddress> alts = List.of(s1, s2, s3);
        p.onData(1, 0, s1, alts);
        p.onData(10_000, 10 * MS, s1, alts);                  // S = 1e6
        assertNull(p.onData(10, 20 * MS, s1, alts), "slow, but inside the dwell time");
        assertNull(p.onData(10, 90 * MS, s1, alts), "slow, but inside the dwell time");
        assertEquals(s2, p.onData(10, 110 * MS, s1, alts), "the first alternate that is not the current server");
        assertNull(p.onData(10, 120 * MS, s1, alts), "a migration is already pending");
        p.onMigration(failed(), 130 * MS);
        assertNull(p.onData(10, 200 * MS, s1, alts), "dwell time restarts after a failed migration");
        assertEquals(s3, p.onData(10, 240 * MS, s1, alts), "round robin over the alternates");
    }

    @Test
    void aCommittedMigrationStartsMeasuringAfresh() {
        SmoothedThroughputPolicy p = new SmoothedThroughputPolicy(0.4, 0.7, Duration.ZERO);
        p.onData(1, 0, s1, List.of(s2));
        p.onData(10_000, 10 * MS, s1, List.of(s2));
        assertEquals(s2, p.onData(10, 20 * MS, s1, List.of(s2)));
        p.onMigration(committed(), 25 * MS);
        assertEquals(0, p.maximum(), 0);
        assertNull(p.onData(100, 35 * MS, s2, List.of(s1)));  // C = 1e4, the new maximum
        assertEquals(1.0e4, p.maximum(), 1e-6);
    }

    @Test
    void rejectsParametersOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> new SmoothedThroughputPolicy(0, 0.7, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new SmoothedThroughputPolicy(0.4, 1.0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new SmoothedThroughputPolicy(0.4, 0.7, Duration.ofMillis(-1)));
    }

    private MigrationEvent committed() {
        return new MigrationEvent(MigrationEvent.Role.CLIENT, MigrationEvent.Initiation.POLICY, "00", s1, s2, null, 0, 0, 0, Map.of());
    }

    private MigrationEvent failed() {
        return new MigrationEvent(MigrationEvent.Role.CLIENT, MigrationEvent.Initiation.POLICY, "00", s1, s2,
                new MigrationException("refused"), 0, 0, 0, Map.of());
    }
}
