package io.vswitch.control;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A port as the operator asks for it ({@code POST /v1/networks/NET/ports}) and as the state file
 * keeps it.
 *
 * @param name    the device name, 1-15 characters {@code [A-Za-z0-9_.-]}
 * @param persist the TAP outlives the daemon (TUNSETPERSIST); null: as the network says
 * @param offload false: no offloads on this port even in an offload network (frames to it are
 *                segmented in software); null: as the network says
 * @param type    tap (default): a TAP device the daemon makes; uplink: an existing host interface,
 *                read and written through AF_PACKET
 * @param trunk   the port carries several networks, each tagged with its VLAN (one may be native)
 * @param macLimit MACs this port may have at most (beside the network's limit); null: none
 * @param storm   storm limits of this port; null: the network's
 */
public record PortSpec(String name, Boolean persist, Boolean offload, String type, Boolean trunk, Integer macLimit,
        StormSpec storm) {
    public static final String TAP = "tap";
    public static final String UPLINK = "uplink";

    public PortSpec(String name, Boolean persist, Boolean offload) {
        this(name, persist, offload, null, null, null, null);
    }

    public static PortSpec named(String name) {
        return new PortSpec(name, null, null);
    }

    /** The port's kind of device: {@link #TAP} unless it says {@link #UPLINK}. */
    public String kind() {
        return type == null ? TAP : type;
    }

    @JsonIgnore
    public boolean isUplink() {
        return UPLINK.equals(type);
    }

    @JsonIgnore
    public boolean isTrunk() {
        return Boolean.TRUE.equals(trunk);
    }

    public boolean persistent() {
        return Boolean.TRUE.equals(persist);
    }
}
