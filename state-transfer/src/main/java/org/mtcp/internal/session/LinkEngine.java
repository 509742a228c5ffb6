package org.mtcp.internal.session;

import org.mtcp.internal.buffer.ChunkPool;
import org.mtcp.internal.buffer.ReceiveBuffer;
import org.mtcp.internal.buffer.SendBuffer;
import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.SessionState;
import org.mtcp.internal.wire.Wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The I/O engine under a session: two byte streams addressed by offsets that survive migrations,
 * carried as frames over the current {@link Link}. It reads the link and hands DATA to the receive
 * buffer in place, answers with acknowledgements and credit, and writes pending control frames, DATA
 * and the FIN in one gathering write; the outgoing bytes are kept until acknowledged, the incoming
 * ones until read (and, on a server, until the next snapshot). {@link SessionCore} adds the
 * application's side, the pump and the loop's side; the two ends add their protocol.
 *
 * <p><b>Locking.</b> One lock guards every field here and in {@link Link}, and every channel
 * operation (all non-blocking). The fields are package-private for {@link SessionCore}; the two ends
 * reach the streams only through the protected methods, each of which wants the lock held.
 */
public abstract class LinkEngine {
    /** Max bytes read from the network in one call. */
    static final int MAX_READ = 64 * 1024;
    /** Delay before a lone acknowledgement is sent (data going the other way carries it sooner). */
    static final long ACK_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("mtcp.ackDelayMillis", 10));

    /** Guards the whole session: every field below, the link's, and the channel operations. */
    final ReentrantLock lock = new ReentrantLock();
    /** Signalled, under {@link #lock}, on any change a waiting thread may care about. */
    final Condition changed = lock.newCondition();
    /** The loop that pumps this session when no application thread does; immutable. */
    final EventLoop loop;
    /** Outgoing bytes, acknowledged below its head; guarded by {@link #lock}. */
    final SendBuffer out;
    /** Incoming bytes; guarded by {@link #lock}. */
    final ReceiveBuffer in;
    /** Most unacknowledged outgoing bytes; writers block beyond it; immutable. */
    final int sendWindow;
    /** Most unread incoming bytes; the network is not read beyond it; immutable. */
    final int receiveWindow;

    // ---- every field below is guarded by lock ----
    /** The current connection, or {@code null}. */
    Link link;
    /** Next outgoing offset to transmit on the current link. */
    long outNext;
    /** The application ended its stream (shutdownOutput or close): a FIN follows the last byte. */
    boolean outFinQueued;
    /** The FIN went out on the current link. */
    boolean outFinSent;
    /** The peer acknowledged the FIN. */
    boolean outFinAcked;
    /** The peer's FIN arrived: the incoming stream ends at {@code in.end()}. */
    boolean inFin;
    /** The application will not read any more. */
    boolean inShutdown;
    /** Last acknowledgement sent (offset), or -1 to force one. */
    long ackSent = -1;
    /** Last credit sent: the peer may send incoming bytes below this offset. */
    long creditSent;
    /** The peer's credit: outgoing bytes below this offset may be sent. */
    long peerCredit;
    /** The highest acknowledgement received on the current link: the peer holds every byte below it. */
    long peerHas;
    /**
     * The highest release received: the peer will not ask again for what this end sent below it. Never above
     * {@link #peerHas} (an ACK's release never exceeds its held offset, and a resume sets both alike): what the send
     * buffer may forget.
     */
    long peerReleased;
    /** The highest release this end sent (ACK, or a server's MIGRATE_ACK): the peer may have forgotten what is below. */
    long releaseSent;
    /** When the oldest unacknowledged incoming byte arrived, 0 for none. */
    long ackDueSince;
    /** The last network read filled what it was offered: more is probably waiting. */
    boolean readAhead = true;
    /** The last flush left bytes the kernel would not take: wait for writability (or an ACK) to try again. */
    boolean kernelFull;
    /** Bytes received that were duplicates of bytes already held (after migrations). */
    long duplicateBytesDropped;
    /** The silence deadline's timer while bytes sent wait for acknowledgement, else {@code null}. */
    private EventLoop.Timer silenceCheck;

    LinkEngine(EventLoop loop, long outStart, long inStart, int sendWindow, int receiveWindow) {
        this.loop = loop;
        this.out = new SendBuffer(ChunkPool.shared(), outStart);
        this.in = new ReceiveBuffer(ChunkPool.shared(), inStart);
        this.outNext = outStart;
        this.sendWindow = sendWindow;
        this.receiveWindow = receiveWindow;
    }

    /** @return a short description for messages: which session, which connection */
    public abstract String describe();

    /** Fails the session ({@link SessionCore#fail}); session lock held. */
    protected abstract void fail(IOException e);

    /** Asks the loop to tick this session ({@link SessionCore#needAttention}); session lock held. */
    protected abstract void needAttention();

    /** @return whether the application closed the session; session lock held */
    protected abstract boolean isClosing();

    /** The loop saw the link ready. */
    abstract void loopReady(Link l, SelectionKey k);

    // ================================================================== hooks for the two ends

    /** @return whether DATA may be sent now (false while a migration is being prepared) */
    protected abstract boolean canSendData();

    /** @return whether the link may be read now (false while the session is frozen for a transfer) */
    protected abstract boolean canReadLink();

    /** A TRIGGER arrived (only a client accepts one); session lock held. */
    protected void onTrigger(Link l, Message.Trigger m) throws IOException {
        throw new ProtocolException("unexpected TRIGGER frame on " + l);
    }

    /** An ALTERNATES arrived (only a client accepts one); session lock held. */
    protected void onAlternates(Link l, Message.Alternates m) throws IOException {
        throw new ProtocolException("unexpected ALTERNATES frame on " + l);
    }

    /** A TRIGGER_RESULT arrived (only a server accepts one); session lock held. */
    protected void onTriggerResult(Link l, Message.TriggerResult m) throws IOException {
        throw new ProtocolException("unexpected TRIGGER_RESULT frame on " + l);
    }

    /** A MOVED arrived; session lock held. */
    protected abstract void onMoved(Link l) throws IOException;

    /** The link's peer closed or reset the connection; session lock held. */
    protected abstract void onLinkLost(Link l, IOException cause);

    /** The first bytes arrived on link {@code l}; session lock held. */
    protected void onLinkHeard(Link l) {
    }

    /** New bytes arrived from the network; session lock held. */
    protected void onDataArrived(int bytes, long nowNanos) {
    }

    // ================================================================== resuming, for the two ends (session lock held)

    /** Starts flow control on a new session: the peer's credit, and this end's from its receive window. */
    protected final void startFlow(long peerCredit) {
        this.peerCredit = peerCredit;
        this.creditSent = creditValue();
    }

    /** Counts bytes dropped because the peer already has them. */
    protected final void countDuplicates(long n) {
        duplicateBytesDropped += n;
    }

    /** @return bytes dropped as duplicates since the last call */
    protected final long takeDroppedDuplicates() {
        long n = duplicateBytesDropped;
        duplicateBytesDropped = 0;
        return n;
    }

    /** The application ended a stream whose FIN the client had before a migration: counted as sent and acknowledged, never sent. */
    protected final void finDeliveredBefore() {
        outFinQueued = true;
        outFinSent = true;
        outFinAcked = true;
    }

    /**
     * Origin: @return what to pack for a destination ({@link ResumeLedger#pack}), or {@code null} for a client claiming
     * more than this server or, up to {@code inheritedSentLimit}, an earlier one sent
     */
    protected final ResumeLedger.Pack pack(ResumeLedger ledger, long clientDownReceived, long inheritedSentLimit) {
        // the up bytes to carry end where the client may have forgotten them (what was released), not at what
        // arrived: the client sends the rest to the destination again
        long release = releaseValue();
        boolean everything = release >= heldValue();
        return ledger.pack(everything ? in.end() : release, everything && inFin, out.head(), out.tail(), outFinSent,
                clientDownReceived, inheritedSentLimit);
    }

    /** Origin: copies the packed stream bytes into the record. */
    protected final void copyPacked(ResumeLedger.Pack p, SessionState st) {
        st.upBytes = new byte[(int) p.upLength()];
        in.copyTo(p.upFrom(), p.upTo(), st.upBytes, 0);
        st.downBytes = new byte[(int) p.downLength()];
        if (st.downBytes.length > 0) {
            out.copyTo(p.downFrom(), p.downTo(), st.downBytes, 0);
        }
    }

    /** Destination: installs the streams of a record as {@link ResumeLedger#install} says. */
    protected final void install(ResumeLedger.Install i, SessionState st) {
        in.install(st.upSnap, st.upBytes);
        inFin = st.upFin;
        out.restartAt(i.outRestartAt());
        if (i.appendDownBytes()) {
            out.append(st.downBytes, 0, st.downBytes.length); // scenario 1: send again what the client may not have
        }
        outFinQueued = i.finQueued();
        outFinSent = i.finSent();
        outFinAcked = i.finAcked();
        outNext = out.head();
        ackSent = -1;
    }

    /** Client: @return what to drop and send again after MIGRATE_ACK ({@link ResumeLedger#clientResume}), or {@code null} */
    protected final ResumeLedger.ClientResume clientResume(long upResume, long downResume) {
        return ResumeLedger.clientResume(upResume, downResume, out.head(), out.tail(), outFinQueued, outFinSent, heldValue());
    }

    /**
     * Drops what the new peer holds and sends again from there, with the new credits.
     *
     * @param peerKnowsHeld what the new peer was told this end holds (a client's MIGRATE_REQ says it), or -1: when it
     *                      is all this end holds, the first acknowledgement on the new link waits for news (more bytes
     *                      held, more credit); else it goes at once
     */
    protected final void resendFrom(ResumeLedger.ClientResume r, long peerCredit, long creditSent, long peerKnowsHeld) {
        out.trimTo(r.trimTo());
        peerHas = r.peerHas();
        peerReleased = r.peerHas(); // the new server holds those bytes, or its state carried them
        outFinAcked = r.finAcked();
        outFinSent = r.finSent();
        outNext = r.sendFrom();
        if (peerKnowsHeld >= 0 && peerKnowsHeld == heldValue() && releaseValue() == peerKnowsHeld) {
            // an acknowledgement of it would tell the new peer nothing, and wake its reader for nothing
            ackSent = peerKnowsHeld;
            releasedTo(peerKnowsHeld); // an ACK due on the old link is then cleared by the caller's queueAck: nothing is new
        } else {
            ackSent = -1; // tell the new peer at once what this end already has
        }
        this.peerCredit = peerCredit;
        this.creditSent = creditSent;
    }

    /**
     * Gives back what an idle session need not hold: spare chunks, empty buffers' bookkeeping arrays, the frame
     * reader's payload array; what is in use stays. Session lock held.
     */
    final void releaseIdleMemory() {
        out.releaseSpare();
        in.releaseSpare();
        Link l = link;
        if (l != null) {
            l.reader.releaseIdle();
        }
    }

    // ================================================================== the link

    /**
     * Reads what the link has (non-blocking) and processes the frames; session lock held.
     *
     * @return bytes read, 0 when none, -1 when the link ended
     */
    protected final int readLink(Link l) throws IOException {
        if (l.dead || !canReadLink()) {
            return 0;
        }
        long room = networkRoom();
        if (room <= 0) {
            return 0;
        }
        ByteBuffer[] bufs = in.prepareRead((int) Math.min(room, MAX_READ));
        long n;
        long offered = 0;
        for (ByteBuffer b : bufs) {
            offered += b.remaining();
        }
        try {
            n = l.channel.read(bufs);
            readAhead = n == offered;
        } catch (IOException e) {
            in.afterRead(0, l.reader, l);
            linkLost(l, e);
            return -1;
        }
        if (n < 0) {
            in.afterRead(0, l.reader, l);
            linkLost(l, null);
            return -1;
        }
        long before = in.end();
        try {
            in.afterRead(n, l.reader, l);
        } catch (ProtocolException e) {
            protocolError(l, e);
            return -1;
        }
        if (isClosing() && in.end() > before) {
            // data for an application that closed its socket: the kernel answers that with a reset, and the
            // peer's writes fail from then on, as they would against a plain socket
            l.resetOnClose();
            fail(new java.net.SocketException("Connection reset by this end: data arrived after the application closed "
                    + describe()));
            return -1;
        }
        if (inShutdown || isClosing()) {
            in.trimTo(in.readOffset());
            in.releaseAll();
        }
        int arrived = (int) (in.end() - before);
        if (n > 0 && !l.heard) {
            l.heard = true;
            onLinkHeard(l);
        }
        if (n > 0) {
            l.arrived();
            afterNetworkRead(arrived);
        }
        return (int) n;
    }

    private void afterNetworkRead(int arrived) throws IOException {
        long now = System.nanoTime();
        if (link != null) {
            link.lastHeardNanos = now;
        }
        if (arrived > 0) {
            changed.signalAll();
            onDataArrived(arrived, now);
        }
        long unacked = heldValue() - Math.max(ackSent, 0);
        if (unacked >= receiveWindow / 4) {
            ackDueSince = 0;
            queueAck(link);
            flushLocked();
        } else if (unacked > 0 && ackDueSince == 0) {
            ackDueSince = now;
            needAttention();
        }
        if (hasPendingOutput()) {
            flushLocked(); // an acknowledgement or credit may have opened the way
        }
    }

    /** @return every outgoing byte sent on the links so far, plus one for a sent FIN: the highest acknowledgement it can get */
    protected final long sentLimit() {
        return outNext + (outFinSent ? 1 : 0);
    }

    /**
     * @return outgoing bytes the peer has not said it holds: what {@code mtcp.sendWindow} limits. The send buffer
     * keeps besides what the peer holds but has not released (a server's unread client bytes: at most its receive
     * window, which its credit enforces), so that a server's release lagging its reads does not stall a writer.
     */
    protected final long unacknowledged() {
        return out.tail() - Math.max(out.head(), Math.min(peerHas, outNext));
    }

    /** @return every incoming byte held, plus one for a FIN: what acknowledgements and migrations carry */
    protected final long heldValue() {
        return in.end() + (inFin ? 1 : 0);
    }

    /**
     * @return the release to send: the peer may forget what it sent below it. Everything held by default (a
     * client's view of the server's stream: the client never moves); a server overrides it (bytes its application
     * has not read stay with the client, so that a migration does not carry them). Never above {@link #heldValue()}
     * and never below {@link #releaseSent}: the ACK and the pack take it as it is; session lock held.
     */
    protected long releaseValue() {
        return heldValue();
    }

    /**
     * @return a release of what the application has read (and of everything once the peer's FIN arrived, or once
     * the application will read no more): what a server sends, so that bytes its application has not read yet stay
     * with the client and a migration carries only the read log; session lock held
     */
    protected final long releaseOfWhatWasRead() {
        if (inFin || inShutdown || isClosing()) {
            return heldValue();
        }
        return Math.max(in.readOffset(), releaseSent);
    }

    /** @return whether the peer may forget more than it was last told */
    private boolean releasePending() {
        return releaseValue() > releaseSent;
    }

    /** A server's MIGRATE_ACK told the peer where to resume: it may forget what it sent below; session lock held. */
    protected final void releasedTo(long offset) {
        if (offset > releaseSent) {
            releaseSent = offset;
        }
    }

    /** @return the highest release sent to the peer */
    protected final long releaseSent() {
        return releaseSent;
    }

    /**
     * @return the credit to give the peer: it may send incoming bytes up to a window past what the
     * application has read. Credit, not acknowledgement, is the flow control: acknowledged bytes
     * free the peer's memory at once, and the network can always be read, so acknowledgements in
     * the incoming stream never wait behind data.
     */
    protected final long creditValue() {
        return in.readOffset() + receiveWindow;
    }

    /** @return how many more incoming bytes may be read from the network now */
    long networkRoom() {
        if (inShutdown || isClosing()) {
            return MAX_READ;
        }
        // a peer that keeps to its credit never reaches the limit: reading stops only for one that does not
        return Math.max(creditSent, heldValue()) + 2L * MAX_READ - in.end();
    }

    private void linkLost(Link l, IOException cause) {
        l.close(false, loop);
        changed.signalAll();
        onLinkLost(l, cause);
    }

    /** A peer broke the protocol: tell it, drop the link, fail the session. */
    protected void protocolError(Link l, ProtocolException e) {
        sendError(l, e.getMessage());
        l.close(true, loop);
        fail(e);
    }

    /** Sends an ERROR frame, best effort; session lock held. */
    protected final void sendError(Link l, String message) {
        if (l.dead || l.output.inFrame) {
            return;
        }
        ByteBuffer error = l.sealed(new Message.Error(message));
        if (l.output.control().remaining() < error.remaining()) {
            return;
        }
        l.output.control().put(error);
        try {
            flushLocked();
        } catch (IOException ignored) {
            // the link is going away anyway
        }
    }

    /**
     * Tells the peer of the current link that the session committed elsewhere (a MOVED frame, best
     * effort, only at a frame boundary) and closes the link; session lock held.
     */
    protected final void closeLinkMoved() {
        writeSealedNow(new Message.Moved()); // the origin may be gone already: it learns from the destination
        closeLinkNow(false);
    }

    /**
     * Writes a sealed control frame on the current link at once, bypassing the queue, best effort, only at a
     * frame boundary with nothing queued (the link is about to end: a frame cut in two would be garbage); session
     * lock held.
     */
    private void writeSealedNow(Message m) {
        Link l = link;
        if (l != null && !l.dead && !l.output.pending()) {
            try {
                l.channel.write(l.sealed(m));
            } catch (IOException ignored) {
                // the connection is gone already: the peer sees that
            }
        }
    }

    /** Closes the current link at once; session lock held. */
    protected final void closeLinkNow(boolean graceful) {
        if (link != null) {
            link.close(graceful, loop);
        }
    }

    void onData(Link l, ByteBuffer buf, int pos, int len) throws IOException {
        long at = l.inOffset;
        l.inOffset += len;
        long expected = in.end();
        if (inFin && at + len > expected) {
            throw new ProtocolException("DATA after FIN on " + l);
        }
        if (at + len <= expected) {
            duplicateBytesDropped += len;
            return;
        }
        if (at > expected) {
            throw new ProtocolException("DATA at offset " + at + " on " + l + " leaves a gap after " + expected);
        }
        int skip = (int) (expected - at);
        duplicateBytesDropped += skip;
        in.keep(buf, pos + skip, len - skip);
    }

    void onAck(Link l, long ack, long credit, long release) throws ProtocolException {
        if (release > ack) {
            throw new ProtocolException("ACK on " + l + " releases offset " + release + ", beyond what it holds (" + ack + ")");
        }
        acknowledged(l, ack, release);
        if (credit > peerCredit) {
            peerCredit = credit;
            changed.signalAll();
        }
    }

    void onFin(Link l, long at) throws ProtocolException {
        if (inFin || at < in.end()) {
            return; // a FIN we already have, sent again after a migration
        }
        if (at > in.end()) {
            throw new ProtocolException("FIN at " + at + " on " + l + " but the stream has " + in.end() + " bytes");
        }
        inFin = true;
        changed.signalAll();
        queueAck(l);
    }

    /**
     * The peer's application reset the connection on purpose: the session fails as a TCP reset fails it (what
     * arrived before is still read first) and is not resumed; session lock held.
     */
    void onPeerReset(Link l, Message.Reset m) {
        if (l != link) {
            return;
        }
        l.close(false, loop);
        changed.signalAll();
        fail(new java.net.SocketException("Connection reset (" + describe() + ": " + m.message() + ")"));
    }

    /**
     * Tells the peer that this end resets the connection on purpose (a sealed RESET, written at once, best
     * effort, only at a frame boundary), so that it does not wait to resume the session; session lock held.
     */
    protected final void sendReset(String why) {
        writeSealedNow(new Message.Reset(why));
    }

    void onPeerError(Message.Error m) {
        fail(new ProtocolException("the peer reported an error on " + describe() + ": " + m.message()));
    }

    private void acknowledged(Link l, long ack, long release) throws ProtocolException {
        long sent = outNext + (outFinSent ? 1 : 0);
        if (ack > sent && !ackBeyondSent(ack)) {
            throw new ProtocolException("ACK of offset " + ack + " on " + l + " beyond what was sent (" + sent + ")");
        }
        if (ack > peerHas) {
            peerHas = ack;
            changed.signalAll(); // room in the send window, though the bytes may stay until released
        }
        if (release > peerReleased) {
            peerReleased = release;
        }
        trimAcknowledged();
    }

    /**
     * Forgets outgoing bytes the peer has released: up to its release, but never past {@link #outNext}
     * (the rest of a DATA frame being written is still needed; after a migration the peer may
     * acknowledge bytes this end has yet to send again, and they are trimmed as they go out).
     */
    private void trimAcknowledged() {
        long upTo = Math.min(Math.min(peerReleased, outNext), out.tail());
        if (upTo > out.head()) {
            out.trimTo(upTo);
            changed.signalAll();
        }
        if (outFinSent && !outFinAcked && peerHas > out.tail()) {
            outFinAcked = true;
            changed.signalAll();
        }
    }

    /**
     * The peer acknowledged bytes this end has not sent; session lock held. A migrated server gets
     * this when the client received more from the previous server than it said in its request (the
     * thesis's beta): the application will write those bytes again.
     *
     * @return whether that is acceptable (else a protocol error)
     */
    protected boolean ackBeyondSent(long ack) {
        return false;
    }

    /** Puts an ACK of everything held, with the current credit and release, into the link's control output; session lock held. */
    protected final void queueAck(Link l) {
        if (l == null || l.dead) {
            return;
        }
        long value = heldValue();
        long credit = Math.max(creditValue(), creditSent);
        long release = releaseValue();
        if (value == ackSent && credit == creditSent && release == releaseSent) {
            ackDueSince = 0; // the peer knows all of it: nothing is due, and the next news must schedule its own ACK
            return;
        }
        if (l.output.control().remaining() < Message.Ack.FRAME_SIZE) {
            return;
        }
        Message.Ack.write(l.output.control(), value, credit, release);
        ackSent = value;
        creditSent = credit;
        releaseSent = release;
        ackDueSince = 0;
    }

    /** The application read: what it read may be released to the peer, at the latest after the ACK delay; session lock held. */
    protected final void releaseDue() {
        if (ackDueSince == 0 && releasePending() && link != null) {
            ackDueSince = System.nanoTime();
            needAttention();
        }
    }

    /**
     * Queues a control frame on the current link; session lock held.
     *
     * @return {@code false} when there is no room (the peer is not reading)
     */
    protected final boolean queueControl(Link l, ByteBuffer frame) {
        if (l == null || l.dead || l.output.control().remaining() < frame.remaining()) {
            return false;
        }
        l.output.control().put(frame);
        return true;
    }

    /** Sends the next write at once (end of stream, triggers): it must not wait for Nagle. Session lock held. */
    protected final void noDelay(Link l) {
        if (l != null) {
            l.pushNextWrite();
        }
    }

    /** @return whether output is waiting for the network */
    protected final boolean hasPendingOutput() {
        Link l = link;
        if (l == null || l.dead) {
            return false;
        }
        if (l.output.pending()) {
            return true;
        }
        if (canSendData() && ((outNext < out.tail() && outNext < peerCredit)
                || (outFinQueued && !outFinSent && outNext == out.tail()))) {
            return true;
        }
        return false;
    }

    /**
     * Writes what can be written now without blocking: pending control frames, then DATA frames for
     * unsent bytes, then a FIN, each round in one write ({@link LinkOutput} does the writing). Here is what
     * goes: the acknowledgement piggybacked on data, DATA within the peer's credit, the FIN after the last byte.
     *
     * @return {@code true} when nothing is left pending
     */
    protected final boolean flushLocked() throws IOException {
        Link l = link;
        if (l == null || l.dead) {
            return false;
        }
        LinkOutput o = l.output;
        while (true) {
            long payload;
            try {
                if (o.inFrame) {
                    payload = o.writeGathered(out, outNext, 0); // the rest of the frame first
                } else {
                    long sendable = Math.min(out.tail(), peerCredit) - outNext;
                    boolean data = canSendData() && sendable > 0;
                    if (data || (ackDueSince != 0 && (heldValue() != ackSent || releasePending()))) {
                        queueAck(l); // piggyback the acknowledgement on the data
                    }
                    if (canSendData() && outFinQueued && !outFinSent && outNext == out.tail()
                            && o.control().remaining() >= Message.Fin.FRAME_SIZE) {
                        noDelay(l); // a plain TCP FIN is never held back by Nagle's algorithm; neither is ours
                        Message.Fin.write(o.control(), out.tail());
                        outFinSent = true;
                    }
                    int len = data ? (int) Math.min(sendable, Wire.MAX_DATA_PAYLOAD) : 0;
                    if (len == 0 && o.controlQueued() == 0) {
                        kernelFull = false;
                        l.everythingWritten();
                        o.release();
                        return true;
                    }
                    payload = len > 0 && o.fitsSmallFrame(len) ? o.writeSmallFrame(out, outNext, len)
                            : o.writeGathered(out, outNext, len);
                }
            } catch (IOException e) {
                linkLost(l, e);
                return false;
            }
            if (o.wroteAny()) {
                l.wrote();
            }
            sent(payload);
            if (!o.tookAll()) {
                kernelFull = true;
                return false;
            }
        }
    }

    /** {@code payload} stream bytes went out in a write: the silence deadline starts, what the peer has already acknowledged goes. */
    private void sent(long payload) {
        outNext += payload;
        if (payload > 0) {
            if (silenceCheck == null && Settings.HEARTBEAT_MILLIS > 0) {
                armSilenceCheck(TimeUnit.MILLISECONDS.toNanos(Settings.HEARTBEAT_MILLIS));
            }
            if (peerReleased > out.head()) {
                trimAcknowledged();
            }
        }
    }

    /** The session ended or moved away: its silence deadline goes, and with it the loop's reference to the session; lock held. */
    protected final void cancelSilenceCheck() {
        EventLoop.Timer t = silenceCheck;
        if (t != null) {
            silenceCheck = null;
            t.cancel();
        }
    }

    /**
     * The application went quiet: a silence deadline with nothing left to wait for (every byte sent is acknowledged)
     * leaves the loop's queue now instead of when due, so that an idle session holds no timer; the next write arms
     * one again. Loop thread, lock held.
     */
    final void dropSettledSilenceCheck() {
        EventLoop.Timer t = silenceCheck;
        if (t != null && outNext + (outFinSent ? 1 : 0) - peerHas <= 0) {
            silenceCheck = null;
            loop.cancel(t);
        }
    }

    private void armSilenceCheck(long delayNanos) {
        silenceCheck = loop.schedule(delayNanos, this::checkSilence);
    }

    /**
     * The silence deadline: bytes sent on the link still wait for acknowledgement and nothing has arrived on it for
     * {@code mtcp.heartbeatMillis}: the path went silent (a peer that vanished, a NAT that forgot the flow, a cable
     * pulled). The link is taken for lost, which resumes the session. Loop thread.
     */
    final void checkSilence() {
        lock.lock();
        try {
            silenceCheck = null;
            Link l = link;
            if (l == null || l.dead || isClosing() && outFinAcked) {
                return;
            }
            long waiting = outNext + (outFinSent ? 1 : 0) - peerHas;
            if (waiting <= 0) {
                return; // everything sent is acknowledged: the next write arms the check again
            }
            long deadline = TimeUnit.MILLISECONDS.toNanos(Settings.HEARTBEAT_MILLIS);
            long silent = System.nanoTime() - l.lastHeardNanos;
            if (silent < deadline || !canReadLink()) {
                armSilenceCheck(Math.max(deadline - silent, TimeUnit.MILLISECONDS.toNanos(100)));
                return;
            }
            linkLost(l, new java.net.SocketTimeoutException("nothing arrived on " + l + " for "
                    + TimeUnit.NANOSECONDS.toMillis(silent) + " ms while " + waiting + " bytes sent on it waited for"
                    + " acknowledgement (mtcp.heartbeatMillis " + Settings.HEARTBEAT_MILLIS + ")"));
        } finally {
            lock.unlock();
        }
    }

    /** Creates a link over a connected non-blocking channel. */
    protected final Link newLink(SocketChannel ch, long inOffset, InetSocketAddress peer, ControlSeal seal) {
        return new Link(this, ch, inOffset, peer, seal);
    }

    /** @return the name of this session's connection with {@code peer}, for messages */
    protected abstract String linkName(InetSocketAddress peer);
}
