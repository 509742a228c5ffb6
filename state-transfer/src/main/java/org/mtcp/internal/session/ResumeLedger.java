package org.mtcp.internal.session;

import org.mtcp.internal.wire.SessionState;

/**
 * The resume arithmetic of thesis 3.3.3 and 4.2.3 (figures 3.8-3.10, 4.9-4.12), with stream offsets
 * instead of sequence numbers: where a server's snapshot sits in both streams, what an origin packs
 * for a destination, what the destination installs, which bytes its application writes again are
 * dropped, and what the client trims and sends again after the switch.
 *
 * <pre>
 *  up (client to server), at the origin:
 *      logStart   upSnap             readOffset          inEnd  [FIN]
 *         |---------|=====read log=======|-----unread------|      upResume = inEnd (+1 with the FIN)
 *                   [upFrom ............................ upTo)   packed (fig 3.8, 4.10)
 *
 *  down (server to client), at the origin:
 *      outHead          downSnap                downWrite = outTail  [FIN]
 *         |---unacked-------|--written after the snapshot--|
 *      (after a migration outTail may lie above downWrite: the send buffer restarts at what the
 *       client has, and the application's first bytes below downSkipUntil are dropped)
 *      downSeen = max(client's received offset, outHead)            (the thesis's snd_max_seen)
 *      scenario 1 (fig 4.9): downSeen &lt; downSnap: [downSeen, downSnap) packed, resent by the destination
 *      scenario 2 (fig 4.9, 3.10): downSeen &gt;= downSnap: nothing packed; the destination's application
 *                  writes [downSnap, downSeen) again and the ledger drops it (downSkipUntil = downSeen)
 *
 *  a FIN is one offset: it sits at the stream's end and a received or acknowledged FIN counts end + 1
 * </pre>
 *
 * <p>A server session owns one ledger for its snapshot bookkeeping (the instance part); the rest is
 * static. Pure: longs and booleans in, values or records out; no I/O, no locks, no logging. The
 * owner's lock guards the instance. Methods return {@code null} (never throw) for offsets a peer
 * should not have sent, so the caller picks the rejection.
 */
public final class ResumeLedger {
    private long upSnap;
    private long downSnap;
    private boolean downFinAtSnap;
    private long downWrite;
    private long downSkipUntil;
    private boolean logOverflowed;

    /** A new session: every offset at 0, no snapshot but the empty one at the start. */
    public ResumeLedger() {
    }

    /** @return the up offset the application had read at its last export */
    public long upSnap() {
        return upSnap;
    }

    /** @return the down offset the application had written at its last export */
    public long downSnap() {
        return downSnap;
    }

    /** @return whether the application had ended its output (FIN queued at {@link #downSnap}) at its last export */
    public boolean downFinAtSnap() {
        return downFinAtSnap;
    }

    /** @return the logical down offset of the application's next byte (dropped bytes included) */
    public long downWrite() {
        return downWrite;
    }

    /** @return application bytes below this offset are duplicates the client has (after a migration) */
    public long downSkipUntil() {
        return downSkipUntil;
    }

    /** @return whether the read log overflowed since the last export (the session cannot migrate) */
    public boolean logOverflowed() {
        return logOverflowed;
    }

    /**
     * The application exported its state ({@code export_state}): the snapshot now sits at its read
     * and write offsets, and the read log restarts (the caller trims it to {@link #upSnap}).
     *
     * @param upReadOffset the application's read offset ({@code in.readOffset()})
     * @param finQueued    whether its output had ended ({@code outFinQueued})
     */
    public void snapshot(long upReadOffset, boolean finQueued) {
        upSnap = upReadOffset;
        downSnap = downWrite;
        downFinAtSnap = finQueued;
        logOverflowed = false; // the new snapshot needs no log before it
    }

    /**
     * After an application read: the read log is bounded; past the limit it is dropped and the
     * session is not migratable until the next export.
     *
     * @param logStart     first offset the read log holds ({@code in.start()})
     * @param readOffset   the application's read offset after the read
     * @param readLogLimit most bytes the log may hold
     * @return the offset to trim the read log to, or -1 to keep it; sets {@link #logOverflowed}
     * when it returns {@code >= 0}
     */
    public long afterRead(long logStart, long readOffset, long readLogLimit) {
        if (readOffset - logStart > readLogLimit) {
            logOverflowed = true;
            return readOffset;
        }
        return -1;
    }

    /**
     * The application writes {@code len} bytes: those below {@link #downSkipUntil} are regenerated
     * bytes the client already has (scenario 2 of figure 4.9, figure 3.10).
     *
     * @param len the write's length
     * @return how many leading bytes to drop; {@link #downWrite} advances by that many (the caller
     * reports the rest through {@link #appended} as it appends them)
     */
    public int skipOnWrite(int len) {
        if (downWrite >= downSkipUntil) {
            return 0;
        }
        int skip = (int) Math.min(len, downSkipUntil - downWrite);
        downWrite += skip;
        return skip;
    }

    /** @param n application bytes just appended to the send buffer ({@link #downWrite} advances) */
    public void appended(int n) {
        downWrite += n;
    }

    /**
     * The application ends its output and the FIN is not queued yet.
     *
     * @return {@code true} when the client already had this FIN before the migration (it is still in
     * the skipped range): queue it as sent and acknowledged, send nothing
     */
    public boolean finAlreadyDelivered() {
        return downWrite < downSkipUntil;
    }

    /**
     * What an origin packs into its STATE_REPLY.
     *
     * @param upFrom   first up byte packed ({@link #upSnap})
     * @param upTo     end of the up bytes packed ({@code in.end()})
     * @param upFin    the client's FIN follows them
     * @param upResume where the client resumes sending: {@code upTo}, +1 with the FIN (an implicit
     *                 acknowledgement, thesis 4.2.3 (f))
     * @param downSeen {@code max(client's received offset, outHead)}: what the client surely has
     * @param downFrom first down byte packed ({@code downSeen} when none)
     * @param downTo   end of the down bytes packed ({@code downFrom == downTo} when none)
     */
    public record Pack(long upFrom, long upTo, boolean upFin, long upResume, long downSeen, long downFrom, long downTo) {
        /** @return how many up bytes to pack */
        public long upLength() {
            return upTo - upFrom;
        }

        /** @return how many down bytes to pack (0 in scenario 2) */
        public long downLength() {
            return downTo - downFrom;
        }
    }

    /**
     * Packs for a STATE_REQUEST against this ledger's snapshot. The caller checks
     * {@link #logOverflowed} first (a distinct rejection).
     *
     * @param inEnd              end of the up bytes held ({@code in.end()})
     * @param inFin              the client's FIN arrived
     * @param outHead            first down byte not acknowledged ({@code out.head()})
     * @param outTail            end of the down bytes in the send buffer ({@code out.tail()})
     * @param outFinSent         the server's FIN went out
     * @param clientDownReceived the client's received offset, from its request
     * @return the pack, or {@code null} when {@code clientDownReceived > sentLimit} (the client claims
     * more than was sent: the caller turns it into a rejection)
     */
    public Pack pack(long inEnd, boolean inFin, long outHead, long outTail, boolean outFinSent, long clientDownReceived) {
        return pack(inEnd, inFin, outHead, outTail, outFinSent, clientDownReceived, 0);
    }

    /**
     * {@link #pack(long, boolean, long, long, boolean, long)} at a server that got the session by migration: the
     * client may have more than this server sent, up to what an earlier server sent it ({@code inheritedSentLimit},
     * the record's {@code downSentLimit}): bytes that were on the way when it asked to leave that server, which this
     * server's application has not written again yet. A claim up to that limit packs no down bytes; the next
     * destination drops what its application writes again below the claim.
     */
    public Pack pack(long inEnd, boolean inFin, long outHead, long outTail, boolean outFinSent, long clientDownReceived,
                     long inheritedSentLimit) {
        if (clientDownReceived > Math.max(sentLimit(outTail, outFinSent), inheritedSentLimit)) {
            return null;
        }
        long downSeen = Math.max(clientDownReceived, outHead);
        long downTo = downSeen < downSnap ? downSnap : downSeen;
        return new Pack(upSnap, inEnd, inFin, held(inEnd, inFin), downSeen, downSeen, downTo);
    }

    /**
     * @param outTail    end of the bytes in a send buffer
     * @param outFinSent whether the FIN after them went out
     * @return the highest offset a peer can have received: the tail, +1 when the FIN was sent
     */
    public static long sentLimit(long outTail, boolean outFinSent) {
        return outTail + (outFinSent ? 1 : 0);
    }

    /**
     * @param end end of the bytes received
     * @param fin whether the FIN after them arrived
     * @return the received offset the FIN included ({@code SessionCore.heldValue()}): what an end
     * acknowledges, what a client puts in its migration request, what an origin resumes up at
     */
    public static long held(long end, boolean fin) {
        return end + (fin ? 1 : 0);
    }

    /**
     * The acknowledgement check of {@code SessionCore.onAck}: an acknowledgement beyond what this end
     * sent on the current link is a protocol error, except at a destination, where it is the
     * thesis's beta (the client got more from the origin than its request said; those bytes come
     * again and the client drops them).
     *
     * @param ack        the acknowledged offset
     * @param outNext    next offset to transmit on the current link
     * @param outFinSent whether the FIN went out on it
     * @return whether {@code ack} is beyond what was sent
     */
    public static boolean beyondSent(long ack, long outNext, boolean outFinSent) {
        return ack > sentLimit(outNext, outFinSent);
    }

    /**
     * What a destination does to its (empty) send buffer.
     *
     * @param outRestartAt    offset to restart the send buffer at; also its head, the down offset the
     *                        MIGRATE_ACK resumes at
     * @param appendDownBytes append the record's down bytes after restarting (scenario 1)
     * @param downSkipUntil   application bytes below this are dropped
     * @param finQueued       the server's FIN is queued (it was at the snapshot)
     * @param finSent         ... and counts as sent
     * @param finAcked        ... and as acknowledged (the client has it)
     */
    public record Install(long outRestartAt, boolean appendDownBytes, long downSkipUntil, boolean finQueued, boolean finSent,
                          boolean finAcked) {
    }

    /**
     * Installs a record's snapshot into this fresh ledger: {@link #upSnap}, {@link #downSnap},
     * {@link #downFinAtSnap}, {@link #downWrite} = {@code downSnap} (the imported application writes
     * from its snapshot), and {@link #downSkipUntil}.
     *
     * @param st the record from the origin (already checked by {@code StateCodec})
     * @return what the send buffer must do
     */
    public Install install(SessionState st) {
        upSnap = st.upSnap;
        downSnap = st.downSnap;
        downFinAtSnap = st.downFinAtSnap;
        downWrite = st.downSnap;
        Install in;
        if (st.downBytes.length > 0) {
            // scenario 1: send again what the client may not have; the application then writes from downSnap
            in = new Install(st.downSeen, true, st.downSnap, st.downFinAtSnap, false, false);
        } else if (st.downFinAtSnap && st.downSeen > st.downSnap) {
            // the client has every byte and the FIN: nothing to send, ever
            in = new Install(st.downSnap, false, st.downSeen, true, true, true);
        } else {
            // scenario 2 (or exactly at the snapshot): the application regenerates what the client has
            in = new Install(st.downSeen, false, st.downSeen, st.downFinAtSnap, false, false);
        }
        downSkipUntil = in.downSkipUntil();
        return in;
    }

    /**
     * What a client does after MIGRATE_ACK.
     *
     * @param trimTo   drop retransmit bytes below this ({@code min(upResume, outTail)})
     * @param peerHas  the destination holds every up offset below this ({@code upResume})
     * @param finSent  whether the client's FIN counts as sent on the new link
     * @param finAcked whether it counts as acknowledged (the implicit acknowledgement covers it)
     * @param sendFrom first up byte to send again: the retransmit buffer's head after the trim
     */
    public record ClientResume(long trimTo, long peerHas, boolean finSent, boolean finAcked, long sendFrom) {
    }

    /**
     * The client's switch (thesis 4.2.3, figures 4.11 and 4.12): the destination's up offset is an
     * implicit acknowledgement that makes up for the origin's acknowledgements still in flight.
     *
     * @param upResume     up offset the destination holds (its MIGRATE_ACK)
     * @param downResume   down offset the destination resumes at (its MIGRATE_ACK)
     * @param outHead      head of the client's retransmit buffer
     * @param outTail      its tail
     * @param outFinQueued the client ended its output
     * @param outFinSent   its FIN went out (to the origin)
     * @param held         the client's received offset now ({@link #held}); may exceed what its
     *                     request said (beta): the bytes in between come again and are dropped
     * @return the resume, or {@code null} when the destination's offsets are outside what this client
     * sent ({@code [outHead, sentLimit]}) or received ({@code <= held})
     */
    public static ClientResume clientResume(long upResume, long downResume, long outHead, long outTail, boolean outFinQueued,
                                            boolean outFinSent, long held) {
        if (upResume > sentLimit(outTail, outFinSent) || upResume < outHead || downResume > held) {
            return null;
        }
        long trimTo = Math.min(upResume, outTail);
        boolean finAcked = outFinQueued && upResume == outTail + 1;
        // a FIN the destination lacks goes again on the new link: not sent there yet
        return new ClientResume(trimTo, upResume, finAcked, finAcked, Math.max(outHead, trimTo));
    }
}
