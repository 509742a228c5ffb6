package org.mtcp.internal.session;

import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.io.ChannelWaiter;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.IoHandler;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * One TCP connection carrying a session's frames. A session has one current link; a migration
 * replaces it. Every field is guarded by the owning session's lock.
 */
public final class Link implements FrameReader.Handler, IoHandler {
    private static final Logger log = LoggerFactory.getLogger(Link.class);

    final LinkEngine session;
    final SocketChannel channel;
    /** The peer's address, for this connection's name in messages ({@link #toString}). */
    private final InetSocketAddress peer;
    final FrameReader reader;
    /** Seals the control frames this end sends and opens the peer's, under the session key of this connection. */
    final ControlSeal seal;
    /** Forged, altered or replayed control frames dropped on this connection. */
    long forgedDropped;
    /** Stream offset of the next DATA byte to arrive on this link. */
    long inOffset;
    /** The outgoing frames and their writes. */
    final LinkOutput output;
    /** The I/O loop's key, once registered. */
    SelectionKey key;
    /** Interest set last given to {@link #key}. */
    int interest;
    /** The loop changed the key's interest without the session lock: {@link #interest} is not to be trusted. */
    volatile boolean interestStale;
    /** No more reads or writes: closed, failed, or replaced. */
    boolean dead;
    /** Something arrived on this connection: the peer is using it (after a resume: it got the answer). */
    boolean heard;
    /** When something last arrived on it (or it was made), for the silence deadline ({@link LinkEngine#checkSilence}). */
    long lastHeardNanos = System.nanoTime();
    /** TCP_NODELAY was turned on for an end of stream or a trigger and must be turned off once it went; session lock held. */
    boolean nagleToRestore;
    /** Bytes arrived since the kernel was last told to acknowledge at once ({@code TCP_QUICKACK}) and nothing was written since; session lock held. */
    boolean quickAckDue;
    /** Something was written since the last quick ACK: bytes that arrive now may be the first part of an answer; session lock held. */
    boolean answerAwaited;
    /** {@link System#nanoTime()} at which a wait for more bytes has the kernel acknowledge, 0 when none is set; session lock held. */
    long quickAckAt;
    /** Whether this platform has {@code TCP_QUICKACK} (Linux); cleared at the first refusal. */
    private static volatile boolean quickAckSupported = true;
    /** The application thread's waiter that has this channel registered (usually the only one), or {@code null}. */
    private ChannelWaiter waiter;
    /** Waiters of further threads that waited for this channel, {@code null} while there are none. */
    private List<ChannelWaiter> moreWaiters;

    Link(LinkEngine session, SocketChannel channel, long inOffset, InetSocketAddress peer, ControlSeal seal) {
        this.session = session;
        this.seal = seal;
        this.channel = channel;
        this.inOffset = inOffset;
        this.peer = peer;
        this.output = new LinkOutput(channel);
        this.reader = new FrameReader(this, true, Wire.MAX_CONTROL_PAYLOAD_ON_DATA);
    }

    /** @return whether the link is closed, failed or replaced */
    public boolean isDead() {
        return dead;
    }

    /** @return the channel */
    public SocketChannel channel() {
        return channel;
    }

    @Override
    public void onData(ByteBuffer buf, int pos, int length) throws IOException {
        session.onData(this, buf, pos, length);
    }

    @Override
    public void onAck(long held, long credit, long release) throws IOException {
        session.onAck(this, held, credit, release);
    }

    @Override
    public void onFin(long at) throws IOException {
        session.onFin(this, at);
    }

    /** The peer's control frames, once their seal is checked. */
    private final FrameReader.Handler authenticated = new FrameReader.Handler() {
        @Override
        public void onError(Message.Error m) {
            session.onPeerError(m);
        }

        @Override
        public void onTrigger(Message.Trigger m) throws IOException {
            session.onTrigger(Link.this, m);
        }

        @Override
        public void onTriggerResult(Message.TriggerResult m) throws IOException {
            session.onTriggerResult(Link.this, m);
        }

        @Override
        public void onAlternates(Message.Alternates m) throws IOException {
            session.onAlternates(Link.this, m);
        }

        @Override
        public void onMoved(Message.Moved m) throws IOException {
            session.onMoved(Link.this);
        }

        @Override
        public void onReset(Message.Reset m) {
            session.onPeerReset(Link.this, m);
        }
    };

    @Override
    public void onSealed(Message.Sealed m) throws IOException {
        Message inner;
        try {
            inner = seal.open(m, this);
        } catch (ProtocolException e) {
            dropForged(e.getMessage());
            return;
        }
        inner.dispatch(authenticated);
    }

    // A control frame without a seal was not sent by the peer (which seals every one): drop it, as TCP
    // drops a segment that fails its checks; the session goes on.
    @Override
    public void onError(Message.Error m) {
        dropForged("an ERROR frame without a seal on " + this);
    }

    @Override
    public void onTrigger(Message.Trigger m) {
        dropForged("a TRIGGER frame without a seal on " + this);
    }

    @Override
    public void onMoved(Message.Moved m) {
        dropForged("a MOVED frame without a seal on " + this);
    }

    @Override
    public void onTriggerResult(Message.TriggerResult m) {
        dropForged("a TRIGGER_RESULT frame without a seal on " + this);
    }

    @Override
    public void onAlternates(Message.Alternates m) {
        dropForged("an ALTERNATES frame without a seal on " + this);
    }

    @Override
    public void onReset(Message.Reset m) {
        dropForged("a RESET frame without a seal on " + this);
    }

    private void dropForged(String what) {
        forgedDropped++;
        log.warn("dropped {}: forged or altered on the way; the session goes on", what);
    }

    /** @return {@code m} sealed for the peer; session lock held */
    ByteBuffer sealed(Message m) {
        return seal.seal(m).encode();
    }

    @Override
    public void ready(SelectionKey k) {
        session.loopReady(this, k);
    }

    /** Sets the loop's interest; session lock held. */
    void setInterest(int ops, EventLoop loop) {
        if (key == null || dead || (interest == ops && !interestStale)) {
            return;
        }
        interestStale = false;
        interest = ops;
        try {
            key.interestOps(ops);
        } catch (CancelledKeyException e) {
            return;
        }
        if (ops != 0 && !loop.inLoop()) {
            loop.wakeup();
        }
    }

    /**
     * Sends the next write at once: TCP_NODELAY on until {@link #everythingWritten}, which turns the
     * application's Nagle back on, so the option it reads is the one it set. Session lock held.
     */
    void pushNextWrite() {
        if (nagleToRestore) {
            return;
        }
        try {
            if (!channel.getOption(StandardSocketOptions.TCP_NODELAY)) {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                nagleToRestore = true;
            }
        } catch (IOException | UnsupportedOperationException ignored) {
            // not a TCP channel, or closing: nothing to hold back
        }
    }

    /** Everything pending went into the kernel: Nagle again if {@link #pushNextWrite} turned it off. Session lock held. */
    void everythingWritten() {
        if (!nagleToRestore) {
            return;
        }
        nagleToRestore = false;
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, false);
        } catch (IOException | UnsupportedOperationException ignored) {
            // closing: nothing more to send
        }
    }

    /** A wait for more bytes that lasts this long has the kernel acknowledge what arrived (see {@link #acknowledgeBy}). */
    static final long QUICK_ACK_DELAY_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1);

    /** Bytes arrived: a wait for more may have to have the kernel acknowledge them. Session lock held. */
    void arrived() {
        quickAckDue = true;
        quickAckAt = 0; // bytes flow: a wait that follows starts its own delay
    }

    /** Bytes went out: their segment acknowledges what arrived; what arrives next may answer them. Session lock held. */
    void wrote() {
        quickAckDue = false;
        quickAckAt = 0;
        answerAwaited = true;
    }

    /**
     * Called before an application thread waits for more bytes: has the kernel acknowledge what arrived
     * now rather than after its delayed-ACK timer (~40 ms) when a peer's next segment may wait for that
     * acknowledgement (Nagle's algorithm holds a small write while an earlier one is unacknowledged).
     * That is so at once for the first wait after bytes that followed a write of ours (an answer written
     * in two parts, head and body), and after {@link #QUICK_ACK_DELAY_NANOS} of waiting otherwise. A stream
     * flows without it: acknowledging every read there would cut the peer's segments small and cost a
     * {@code setsockopt} per read (a 1 KiB download on one CPU ran at two thirds of the speed); an
     * exchange that answers before it waits writes, and its segment carries the acknowledgement. The
     * library's own ACK frame keeps its delay. Session lock held.
     *
     * @param now {@link System#nanoTime()}
     * @return when the wait must end to acknowledge, {@code Long.MAX_VALUE} for no such limit
     */
    long acknowledgeBy(long now) {
        if (!quickAckDue) {
            return Long.MAX_VALUE;
        }
        if (answerAwaited || quickAckAt != 0 && now - quickAckAt >= 0) {
            acknowledgeNow();
            return Long.MAX_VALUE;
        }
        if (quickAckAt == 0) {
            quickAckAt = now + QUICK_ACK_DELAY_NANOS;
        }
        return quickAckAt;
    }

    private void acknowledgeNow() {
        quickAckDue = false;
        answerAwaited = false;
        quickAckAt = 0;
        if (!quickAckSupported) {
            return;
        }
        try {
            channel.setOption(jdk.net.ExtendedSocketOptions.TCP_QUICKACK, true);
        } catch (UnsupportedOperationException e) {
            quickAckSupported = false; // not Linux: the kernel's delayed ACK it is, and no more tries
        } catch (IOException | IllegalArgumentException ignored) {
            // closing
        }
    }

    /** @return the channel's SO_LINGER (set by the application) in nanoseconds, -1 when off */
    long lingerNanos() {
        try {
            Integer l = channel.getOption(StandardSocketOptions.SO_LINGER);
            return l == null || l < 0 ? -1 : java.util.concurrent.TimeUnit.SECONDS.toNanos(l);
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    /** The next {@link #close} resets the connection (SO_LINGER 0), as a kernel's close does with bytes unread. */
    void resetOnClose() {
        try {
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException | RuntimeException ignored) {
            // closed already: nothing to reset
        }
    }

    /**
     * Closes the connection; session lock held. The loop closes the channel so that its own key is
     * flushed at once and the descriptor released.
     *
     * @param graceful send the peer an orderly end of TCP stream first
     */
    void close(boolean graceful, EventLoop loop) {
        if (dead && !channel.isOpen()) {
            return;
        }
        dead = true;
        ChannelWaiter first = waiter;
        List<ChannelWaiter> more = moreWaiters;
        waiter = null;
        moreWaiters = null;
        if (first != null) {
            first.wakeup();
        }
        if (more != null) {
            for (ChannelWaiter w : more) {
                w.wakeup();
            }
        }
        if (graceful) {
            try {
                channel.shutdownOutput();
            } catch (IOException ignored) {
                // the peer is gone already
            }
        }
        SelectionKey k = key;
        loop.execute(() -> {
            if (k != null) {
                k.cancel();
            }
            if (first != null) {
                first.forget(channel);
            }
            if (more != null) {
                for (ChannelWaiter w : more) {
                    w.forget(channel);
                }
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
        });
    }

    /** An application thread is about to wait for this channel with {@code w}: a close must wake it and make it let go. */
    void waitingWith(ChannelWaiter w) {
        if (waiter == null || waiter == w) {
            waiter = w;
        } else if (moreWaiters == null) {
            moreWaiters = new ArrayList<>(2);
            moreWaiters.add(w);
        } else if (!moreWaiters.contains(w)) {
            moreWaiters.add(w);
        }
    }

    /** @return this connection's name in messages, made when one needs it (an idle session keeps no string) */
    @Override
    public String toString() {
        return session.linkName(peer);
    }
}
