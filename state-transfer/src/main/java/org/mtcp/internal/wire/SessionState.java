package org.mtcp.internal.wire;

import java.util.Arrays;

/**
 * Everything a destination needs to resume a session (the STATE_REPLY of thesis 4.2.3, with offsets
 * instead of sequence numbers).
 *
 * <pre>
 *  up (client to server):    upSnap ........ upResume
 *                            |--- upBytes ---|        (read log, and what was released beyond it: unread
 *                                                      bytes only after the FIN or a shut input; upFin: the
 *                                                      FIN follows)
 *  down (server to client):  downSeen ....... downSnap
 *                            |-- downBytes --|        (only when downSeen &lt; downSnap, scenario 1)
 *                            downSnap ... downSeen    (scenario 2: the application regenerates these;
 *                                                      the destination drops them)
 * </pre>
 */
public final class SessionState {
    /** Format version of the serialized record. */
    public static final int VERSION = 3;

    /** The session's identifier. */
    public byte[] sessionId = new byte[0];
    /**
     * The session key (for migration proofs and the rotated key); the destination replaces it with the
     * key it agrees with the client. Travels only inside a control connection (TLS across hosts).
     */
    public byte[] key = new byte[0];
    /** Highest migration sequence number accepted so far. */
    public long migrationSeq;
    /** Number of migrations so far. */
    public int migrations;
    /** The last exported application state. */
    public byte[] appState = new byte[0];
    /** Up offset the application had read when it exported. */
    public long upSnap;
    /** Up offset the client resumes sending at (implicit acknowledgement). */
    public long upResume;
    /** Up bytes {@code [upSnap, upSnap + upBytes.length)}. */
    public byte[] upBytes = new byte[0];
    /** The client's FIN follows the up bytes. */
    public boolean upFin;
    /** Down offset the application had written when it exported. */
    public long downSnap;
    /** Down offset the client has surely received: max(client's received offset, acknowledged). */
    public long downSeen;
    /** Down bytes {@code [downSeen, downSnap)}, empty when {@code downSeen >= downSnap}. */
    public byte[] downBytes = new byte[0];
    /** The server's FIN was written before the snapshot, at {@code downSnap}. */
    public boolean downFinAtSnap;
    /**
     * The highest down acknowledgement the client can legitimately send (every down byte any server of the
     * session sent it, plus one for a FIN): at least {@code downSeen}. The destination refuses an ACK beyond it.
     */
    public long downSentLimit;

    @Override
    public String toString() {
        return "SessionState[state " + appState.length + " B, up " + upSnap + ".." + upResume + " (" + upBytes.length
                + " B" + (upFin ? " +FIN" : "") + "), down snap " + downSnap + " seen " + downSeen + " (" + downBytes.length
                + " B" + (downFinAtSnap ? " +FIN" : "") + "), seq " + migrationSeq + "]";
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SessionState)) {
            return false;
        }
        SessionState s = (SessionState) o;
        return Arrays.equals(sessionId, s.sessionId) && Arrays.equals(key, s.key) && migrationSeq == s.migrationSeq
                && migrations == s.migrations && Arrays.equals(appState, s.appState) && upSnap == s.upSnap
                && upResume == s.upResume && Arrays.equals(upBytes, s.upBytes) && upFin == s.upFin
                && downSnap == s.downSnap && downSeen == s.downSeen && Arrays.equals(downBytes, s.downBytes)
                && downFinAtSnap == s.downFinAtSnap && downSentLimit == s.downSentLimit;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sessionId) * 31 + Long.hashCode(upResume);
    }
}
