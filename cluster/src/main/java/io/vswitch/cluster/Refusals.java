package io.vswitch.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Values refused, counted per reason ({@link Refusal}) and logged rate-limited: the first of
 * each reason at once, then at most one line per reason per {@link #WINDOW_MS} saying how many
 * more there were and the latest, so a writer flooding junk costs a counter increment per key,
 * not a WARN. Also the keys whose latest value was refused (at most {@link #MAX_KEYS} are
 * remembered; beyond that the count is a floor).
 *
 * <p>Counts are read from any thread; the rest is called under the store's lock.
 */
public final class Refusals {
    private static final Logger LOG = LoggerFactory.getLogger(Refusals.class);
    static final long WINDOW_MS = 60_000;
    static final int MAX_KEYS = 100_000;

    private final AtomicLongArray counts = new AtomicLongArray(Refusal.values().length);
    private final Set<String> keys = new HashSet<>();
    private final long[] loggedAt = new long[Refusal.values().length];
    private final long[] suppressed = new long[Refusal.values().length];
    private final String[] latest = new String[Refusal.values().length];
    private final java.util.function.LongSupplier clock;

    public Refusals() {
        this(System::currentTimeMillis);
    }

    Refusals(java.util.function.LongSupplier clock) {
        this.clock = clock;
        java.util.Arrays.fill(loggedAt, Long.MIN_VALUE / 2);
    }

    /** Counts a refused value of {@code rel}; logs it unless a line for {@code reason} went out in the window. */
    public void refuse(String rel, Refusal reason, String detail) {
        counts.incrementAndGet(reason.ordinal());
        if (keys.size() < MAX_KEYS) {
            keys.add(rel);
        }
        int i = reason.ordinal();
        long now = clock.getAsLong();
        String what = clip(rel) + ": " + detail;
        if (now - loggedAt[i] >= WINDOW_MS) {
            LOG.warn("cluster: refused {} ({}){}", what, reason.meaning(), suppressed[i] == 0 ? ""
                    : "; " + suppressed[i] + " more refused for that reason in the last minute");
            loggedAt[i] = now;
            suppressed[i] = 0;
        } else {
            suppressed[i]++;
            latest[i] = what;
        }
    }

    /** {@code rel} now holds an accepted value, or was deleted. */
    public void accepted(String rel) {
        if (!keys.isEmpty()) {
            keys.remove(rel);
        }
    }

    /** Logs what was held back once its window is over (called now and then by the session). */
    public void report() {
        long now = clock.getAsLong();
        for (Refusal r : Refusal.values()) {
            int i = r.ordinal();
            if (suppressed[i] > 0 && now - loggedAt[i] >= WINDOW_MS) {
                LOG.warn("cluster: refused {} more values ({}) in the last minute, the latest {}", suppressed[i],
                        r.meaning(), latest[i]);
                loggedAt[i] = now;
                suppressed[i] = 0;
                latest[i] = null;
            }
        }
    }

    /** The keys remembered as refused are forgotten (a list follows and refuses them again). */
    public void clearKeys() {
        keys.clear();
    }

    public int refusedKeys() {
        return keys.size();
    }

    public long count(Refusal r) {
        return counts.get(r.ordinal());
    }

    /** Counts so far by reason, every reason present. */
    public Map<Refusal, Long> counts() {
        Map<Refusal, Long> out = new EnumMap<>(Refusal.class);
        for (Refusal r : Refusal.values()) {
            out.put(r, counts.get(r.ordinal()));
        }
        return out;
    }

    /** At most 80 characters, anything unprintable as '?': a key is anyone's text. */
    static String clip(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 83));
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return s.length() <= 80 ? b.toString() : b.append("...").toString();
    }
}
