package io.vswitch.wireguard;

/**
 * The timers of whitepaper section 6 for one peer, as timestamps rather than armed timers:
 * the data path only notes what happened, and {@link Device#tick} asks what is due now. Pure:
 * every decision is a function of the notes and {@code nowNs}, tested without sockets or sleeps.
 * <ul>
 *   <li>keepalive: data received and nothing sent back for KEEPALIVE_TIMEOUT (10 s): send an
 *       empty transport message;</li>
 *   <li>new handshake: data sent and nothing authentic received for KEEPALIVE_TIMEOUT +
 *       REKEY_TIMEOUT (15 s): the session may be dead, initiate;</li>
 *   <li>retransmission: no response REKEY_TIMEOUT (5 s) plus 0..333 ms of jitter after an
 *       initiation: send a fresh one, until REKEY_ATTEMPT_TIME (90 s) since the first, then give
 *       up (staged packets are dropped);</li>
 *   <li>rekey: wanted by the data path when the current keypair (if we initiated it) is
 *       REKEY_AFTER_TIME old or REKEY_AFTER_MESSAGES used on sending, or 165 s old on receiving;</li>
 *   <li>zeroing: all keys erased 3 x REJECT_AFTER_TIME after the last session was made;</li>
 *   <li>persistent keepalive: nothing sent or received for the configured interval.</li>
 * </ul>
 *
 * <p>Threading: the volatile notes are written by any loop (each write only on a change of
 * state, or for {@link #lastTraversalNs} at most once a millisecond, so loops do not fight over
 * the cache line per packet); the handshake fields are guarded by the owning peer's lock.
 */
final class PeerTimers {
    static final long UNSET = Long.MIN_VALUE;
    private static final long COARSE_NS = 1_000_000L;

    volatile long dataReceivedUnansweredNs = UNSET;
    volatile long dataSentUnansweredNs = UNSET;
    volatile long lastTraversalNs = UNSET;
    volatile boolean rekeyWanted;

    /** First initiation of the current attempt (UNSET: no attempt). Guarded by the peer's lock. */
    long attemptStartNs = UNSET;
    /** When the initiation in flight is resent. Guarded by the peer's lock. */
    long retransmitAtNs = UNSET;
    /** When the newest keypair was made (UNSET: none to erase). Guarded by the peer's lock. */
    long sessionDerivedNs = UNSET;

    void dataReceived(long nowNs) {
        if (dataReceivedUnansweredNs == UNSET) {
            dataReceivedUnansweredNs = nowNs;
        }
    }

    void anyAuthenticatedReceived(long nowNs) {
        if (dataSentUnansweredNs != UNSET) {
            dataSentUnansweredNs = UNSET;
        }
        traversed(nowNs);
    }

    void dataSent(long nowNs) {
        if (dataSentUnansweredNs == UNSET) {
            dataSentUnansweredNs = nowNs;
        }
    }

    void anyAuthenticatedSent(long nowNs) {
        if (dataReceivedUnansweredNs != UNSET) {
            dataReceivedUnansweredNs = UNSET;
        }
        traversed(nowNs);
    }

    private void traversed(long nowNs) {
        long last = lastTraversalNs;
        if (last == UNSET || nowNs - last >= COARSE_NS) {
            lastTraversalNs = nowNs;
        }
    }

    boolean keepaliveDue(long nowNs) {
        long t = dataReceivedUnansweredNs;
        return t != UNSET && nowNs - t >= Protocol.KEEPALIVE_TIMEOUT_NS;
    }

    boolean newHandshakeDue(long nowNs) {
        long t = dataSentUnansweredNs;
        return t != UNSET && nowNs - t >= Protocol.KEEPALIVE_TIMEOUT_NS + Protocol.REKEY_TIMEOUT_NS;
    }

    boolean persistentKeepaliveDue(long nowNs, long intervalNs) {
        long t = lastTraversalNs;
        return intervalNs > 0 && (t == UNSET || nowNs - t >= intervalNs);
    }

    boolean retransmitDue(long nowNs) {
        return retransmitAtNs != UNSET && nowNs - retransmitAtNs >= 0;
    }

    boolean attemptExhausted(long nowNs) {
        return attemptStartNs != UNSET && nowNs - attemptStartNs >= Protocol.REKEY_ATTEMPT_TIME_NS;
    }

    boolean zeroKeysDue(long nowNs) {
        return sessionDerivedNs != UNSET && nowNs - sessionDerivedNs >= Protocol.ZERO_KEYS_AFTER_NS;
    }

    /** An initiation went out: schedule its retransmission with {@code jitterNs} (0..333 ms). */
    void initiationSent(long nowNs, long jitterNs) {
        if (attemptStartNs == UNSET) {
            attemptStartNs = nowNs;
        }
        retransmitAtNs = nowNs + Protocol.REKEY_TIMEOUT_NS + jitterNs;
    }

    /** A session was made (either role): the attempt is over. */
    void sessionDerived(long nowNs) {
        attemptStartNs = UNSET;
        retransmitAtNs = UNSET;
        sessionDerivedNs = nowNs;
        rekeyWanted = false;
    }

    /** The attempt was given up after REKEY_ATTEMPT_TIME. */
    void attemptAbandoned() {
        attemptStartNs = UNSET;
        retransmitAtNs = UNSET;
        dataReceivedUnansweredNs = UNSET;
    }
}
