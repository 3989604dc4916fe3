package io.vswitch.control;

/**
 * A port as the operator asks for it ({@code POST /v1/networks/NET/ports}) and as the state file
 * keeps it.
 *
 * @param name    the device name, 1-15 characters {@code [A-Za-z0-9_.-]}
 * @param persist the TAP outlives the daemon (TUNSETPERSIST); null: as the network says
 * @param offload false: no offloads on this port even in an offload network (frames to it are
 *                segmented in software); null: as the network says
 */
public record PortSpec(String name, Boolean persist, Boolean offload) {
    public static PortSpec named(String name) {
        return new PortSpec(name, null, null);
    }

    public boolean persistent() {
        return Boolean.TRUE.equals(persist);
    }
}
