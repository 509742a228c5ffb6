package org.mtcp.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;
import org.mtcp.api.MigrationEvent;

/** A migration as JDK Flight Recorder shows it, with the phase timings of thesis figure 5.2. */
@Name("org.mtcp.Migration")
@Label("MTCP Migration")
@Category({"MTCP"})
@Description("One migration of an MTCP session, as one party (client, origin or destination) saw it")
final class MigrationJfrEvent extends Event {
    @Label("Role")
    String role;
    @Label("Initiation")
    String initiation;
    @Label("Session")
    String session;
    @Label("From")
    String from;
    @Label("To")
    String to;
    @Label("Committed")
    boolean committed;
    @Label("Failure")
    String failure;
    @Label("State Bytes")
    int stateBytes;
    @Label("Bytes Replayed")
    long replayedBytes;
    @Label("Bytes Resent")
    long resentBytes;
    @Label("Prepare")
    @Timespan(Timespan.NANOSECONDS)
    long prepare;
    @Label("Wait")
    @Timespan(Timespan.NANOSECONDS)
    long waitTime;
    @Label("Complete")
    @Timespan(Timespan.NANOSECONDS)
    long complete;

    /** The first instance of the class registers it with JFR (class loading and metadata): done ahead of use. */
    static void register() {
        new MigrationJfrEvent().isEnabled();
    }

    static void emit(MigrationEvent e) {
        MigrationJfrEvent j = new MigrationJfrEvent();
        if (!j.isEnabled()) {
            return;
        }
        j.role = e.role().name();
        j.initiation = e.initiation().name();
        j.session = e.sessionId();
        j.from = String.valueOf(e.from());
        j.to = String.valueOf(e.to());
        j.committed = e.committed();
        j.failure = e.committed() ? null : e.failure().getMessage();
        j.stateBytes = e.stateBytes();
        j.replayedBytes = e.replayedBytes();
        j.resentBytes = e.resentBytes();
        switch (e.role()) {
            case CLIENT:
                j.prepare = Math.max(0, e.phaseNanos(MigrationEvent.Phase.CLIENT_PREPARE));
                j.waitTime = Math.max(0, e.phaseNanos(MigrationEvent.Phase.CLIENT_WAIT));
                j.complete = Math.max(0, e.phaseNanos(MigrationEvent.Phase.CLIENT_COMPLETE));
                break;
            case DESTINATION:
                j.prepare = Math.max(0, e.phaseNanos(MigrationEvent.Phase.DESTINATION_PREPARE_REQUEST));
                j.waitTime = Math.max(0, e.phaseNanos(MigrationEvent.Phase.DESTINATION_WAIT_REPLY));
                j.complete = Math.max(0, e.phaseNanos(MigrationEvent.Phase.DESTINATION_REINSTATE));
                break;
            default:
                j.prepare = Math.max(0, e.phaseNanos(MigrationEvent.Phase.ORIGIN_PREPARE_REPLY));
        }
        j.commit();
    }
}
