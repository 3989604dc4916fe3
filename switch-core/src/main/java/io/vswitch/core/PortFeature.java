package io.vswitch.core;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The key of a per-port feature's settings: a port holds, under each key, its own settings of that
 * feature or none ({@link Port#feature}, {@link Port#setFeature}). The feature's stage is in a
 * network's arc while any port of the network has settings under its key
 * ({@link FeatureArc#compose}), and reads the ingress port's once per batch: one array load.
 * Storm limits are one ({@link StormStage#LIMITS}); port security, say, would be another:
 * <pre>
 *   static final PortFeature&lt;Bindings&gt; BINDINGS = PortFeature.named("port-security");
 * </pre>
 * Keys are few and made once, as constants of their stages.
 */
public final class PortFeature<T> {
    /** Keys at most; each port keeps an array of this many slots. */
    static final int MAX = 16;
    private static final AtomicInteger NEXT = new AtomicInteger();

    final int index;
    private final String name;

    private PortFeature(int index, String name) {
        this.index = index;
        this.name = name;
    }

    /** A new key; call once per feature, for a constant. */
    public static <T> PortFeature<T> named(String name) {
        int index = NEXT.getAndIncrement();
        if (index >= MAX) {
            throw new IllegalStateException("more than " + MAX + " per-port features");
        }
        return new PortFeature<>(index, name);
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "port feature " + name;
    }
}
