package org.mtcp.server.testkit;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.client.MtcpSocket;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The migrations of one client socket as its listener reports them, for tests that must prove
 * migrations happened (a test that moves bytes correctly proves nothing about migration if none
 * took place). {@link #assertCommittedAtLeast} also checks that the library's other accounts of them
 * agree: the client's statistics and the destinations' reports.
 */
public final class ClientMigrations {
    private final MtcpSocket socket;
    private final List<MigrationEvent> events = new CopyOnWriteArrayList<>();

    private ClientMigrations(MtcpSocket socket) {
        this.socket = socket;
    }

    /**
     * @param s a socket, best not yet connected: a migration a server triggers at once may commit
     *          before a listener added after the connect hears of it
     * @return a record of the migrations of {@code s} from now on
     */
    public static ClientMigrations of(MtcpSocket s) {
        ClientMigrations m = new ClientMigrations(s);
        s.addMigrationListener(m.events::add);
        return m;
    }

    /** @return migrations that moved the session, so far */
    public long committed() {
        return events.stream().filter(MigrationEvent::committed).count();
    }

    /** @return the events so far */
    public List<MigrationEvent> events() {
        return List.copyOf(events);
    }

    /**
     * Asserts that at least {@code min} migrations committed, all initiated by {@code initiation},
     * and that the client's statistics and the cluster's destinations count the same number (their
     * reports may trail the client's: waited for, bounded).
     *
     * @return the number of committed migrations
     */
    public long assertCommittedAtLeast(long min, MigrationEvent.Initiation initiation, Cluster c) throws InterruptedException {
        long committed = committed();
        if (committed < min) {
            throw new AssertionError("expected at least " + min + " committed migrations, the client reported " + committed
                    + ": " + events + "; " + socket.statistics());
        }
        for (MigrationEvent e : events) {
            if (e.committed() && e.initiation() != initiation) {
                throw new AssertionError("a migration initiated by " + e.initiation() + ", expected " + initiation + ": " + e);
            }
        }
        String id = socket.sessionId();
        boolean agree = Waits.until(() -> socket.statistics().committed() == committed()
                && arrivals(c, id, initiation) == committed(), Duration.ofSeconds(10));
        if (!agree) {
            MigrationStatistics st = socket.statistics();
            throw new AssertionError("the accounts of the migrations disagree: client listener " + committed()
                    + ", client statistics " + st.committed() + ", arrivals the destinations reported as initiated by "
                    + initiation + " " + arrivals(c, id, initiation) + "; " + st + "; destination events " + c.events);
        }
        return committed;
    }

    /** Arrivals reported by the destinations, with who started them as the client said. */
    private static long arrivals(Cluster c, String sessionId, MigrationEvent.Initiation initiation) {
        return c.events.stream().filter(e -> e.role() == MigrationEvent.Role.DESTINATION && e.committed()
                && e.sessionId().equals(sessionId) && e.initiation() == initiation).count();
    }
}
