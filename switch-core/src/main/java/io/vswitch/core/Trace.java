package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;

/**
 * What the switch would do with a frame, and why, like Open vSwitch's {@code ofproto/trace}:
 * the same {@link Forwarder} functions the data path runs, on a frame built from the given
 * fields, against the live MAC table, without learning anything or sending anything.
 *
 * <p>A port whose link is down in its own namespace (a container set its interface down:
 * {@link Port#linkUp}) is still written to by the data path, and the kernel refuses the write
 * (EIO, counted as {@code link-down}): the frame never reaches it. So trace lists such a port
 * among those a flood skips, and a unicast to it as a {@code link-down} drop, as {@code show}
 * lists it down.
 */
public final class Trace {
    /** The verdict: {@code decision} is unicast, flood or drop. */
    public record Result(String network, String in, String src, String dst, int vlan, List<String> steps,
            String decision, List<String> egress, String reason) {
    }

    private static final String LINK_DOWN = "link is down in its namespace";

    private Trace() {
    }

    public static Result run(BridgeDomain domain, Port ingress, long src, long dst, int vlan, long nowNs) {
        List<String> steps = new ArrayList<>();
        int tick = BridgeDomain.tick(nowNs);
        ByteBuf frame = build(src, dst, vlan);
        try {
            steps.add("ingress: port " + ingress.name() + " of network " + domain.name() + " ("
                    + (!ingress.isUp() ? "down" : !ingress.linkUp() ? LINK_DOWN + ": nothing comes in from it" : "up") + ")"
                    + (vlan >= 0 ? ", 802.1Q tag vlan " + vlan + " passes through untouched" : ""));
            if (!ingress.isUp() || !ingress.linkUp()) {
                return drop(domain, ingress, src, dst, vlan, steps, DropReason.INGRESS_DOWN);
            }
            if (ingress.isMirrorOutput()) {
                return drop(domain, ingress, src, dst, vlan, steps, DropReason.MIRROR_LOOP);
            }
            int verdict = Forwarder.validate(frame, domain.mtu());
            if (verdict != Forwarder.VALID) {
                return drop(domain, ingress, src, dst, vlan, steps, Forwarder.reason(verdict));
            }
            steps.add("validate: ok");
            if (domain.flaps().isBlocked(src, ingress, nowNs)) {
                steps.add("learn: " + MacAddress.toString(src) + " is pinned to another port: it moved faster than "
                        + domain.flaps().limit() + "/s");
                return drop(domain, ingress, src, dst, vlan, steps, DropReason.MAC_FLAP);
            }
            Mirroring mirroring = domain.mirroring();
            Port inputCopy = mirroring == null ? null : mirroring.inputCopy(ingress);
            if (inputCopy != null) {
                steps.add("mirror: a copy of what " + ingress.name() + " receives goes to " + inputCopy.name());
            }
            steps.add("learn: " + learning(domain, ingress, src, tick));
            long entry = MacAddress.isGroup(dst) ? 0 : domain.table().lookup(dst);
            if (MacAddress.isGroup(dst)) {
                steps.add("lookup: " + MacAddress.toString(dst) + " is a " + (MacAddress.isBroadcast(dst) ? "broadcast" : "multicast")
                        + " address");
            } else if (entry == 0) {
                steps.add("lookup: " + MacAddress.toString(dst) + " is unknown");
            } else {
                Port at = domain.port(MacTable.portId(entry));
                steps.add("lookup: " + MacAddress.toString(dst) + " " + describe(domain, entry, at, tick));
            }
            int decision = Forwarder.forward(domain, dst, ingress);
            if (Forwarder.isDrop(decision)) {
                return drop(domain, ingress, src, dst, vlan, steps, Forwarder.reason(decision));
            }
            if (decision > 0) {
                Port egress = domain.port(decision);
                if (!egress.linkUp()) {
                    steps.add("output: unicast to " + egress.name() + ", whose " + LINK_DOWN + ": the kernel refuses the write");
                    return drop(domain, ingress, src, dst, vlan, steps, DropReason.LINK_DOWN);
                }
                steps.add("output: unicast to " + egress.name());
                Port copy = mirroring == null ? null : mirroring.outputCopy(egress);
                if (copy != null && copy != inputCopy) {
                    steps.add("mirror: a copy of what is sent to " + egress.name() + " goes to " + copy.name());
                }
                return new Result(domain.name(), ingress.name(), MacAddress.toString(src), MacAddress.toString(dst), vlan,
                        steps, "unicast", List.of(egress.name()), null);
            }
            List<String> egress = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            int linkDown = 0;
            for (Port p : domain.portArray()) {
                if (p == null) {
                    continue;
                }
                int exclusion = FloodSet.exclusion(ingress, p);
                if (exclusion == FloodSet.INCLUDED && !p.linkUp()) {
                    // Written to, and refused by the kernel: it gets nothing.
                    skipped.add(p.name() + " (" + LINK_DOWN + ": the write is refused, counted as link-down)");
                    linkDown++;
                } else if (exclusion == FloodSet.INCLUDED) {
                    egress.add(p.name());
                } else if (exclusion != FloodSet.INGRESS) {
                    skipped.add(p.name() + " (" + FloodSet.describe(exclusion) + ")");
                }
            }
            if (egress.isEmpty()) {
                if (!skipped.isEmpty()) {
                    steps.add("output: no port gets it (skipped " + String.join(", ", skipped) + ")");
                }
                return drop(domain, ingress, src, dst, vlan, steps, linkDown > 0 ? DropReason.LINK_DOWN : DropReason.NO_EGRESS);
            }
            StormControl storm = ingress.storm();
            long limit = storm == null ? 0 : switch (StormControl.kind(dst)) {
                case StormControl.BROADCAST -> storm.limits().broadcast();
                case StormControl.MULTICAST -> storm.limits().multicast();
                default -> storm.limits().unknownUnicast();
            };
            steps.add("output: flood to " + String.join(", ", egress) + " (every up port but the ingress"
                    + (skipped.isEmpty() ? "" : "; skipped " + String.join(", ", skipped)) + ")"
                    + (limit > 0 ? "; " + ingress.name() + " may flood " + limit + " such frames/s (storm limit)" : ""));
            return new Result(domain.name(), ingress.name(), MacAddress.toString(src), MacAddress.toString(dst), vlan,
                    steps, "flood", egress, null);
        } finally {
            frame.release();
        }
    }

    private static String learning(BridgeDomain domain, Port ingress, long src, int tick) {
        long entry = domain.table().lookup(src);
        String mac = MacAddress.toString(src);
        if (entry == 0 || !domain.isCurrent(entry)) {
            if (domain.table().learned() >= domain.table().limit()) {
                return mac + " would not be learned: the table is at mac-limit " + domain.table().limit()
                        + " (its frames flood; established entries are never evicted)";
            }
            return mac + " would be learned on " + ingress.name();
        }
        Port at = domain.port(MacTable.portId(entry));
        if (MacTable.isStatic(entry)) {
            return mac + " has a static entry on " + at.name() + ": never moves";
        }
        if (at == ingress) {
            return mac + " is already on " + ingress.name() + " (seen " + Math.max(0, tick - MacTable.tick(entry)) + "s ago)";
        }
        return mac + " would move from " + at.name() + " to " + ingress.name();
    }

    private static String describe(BridgeDomain domain, long entry, Port at, int tick) {
        if (at == null || !domain.isCurrent(entry)) {
            return "was learned on a port that is gone (stale entry): unknown";
        }
        String kind = MacTable.isStatic(entry) ? "static" : "dynamic, seen " + Math.max(0, tick - MacTable.tick(entry)) + "s ago";
        return "was learned on " + at.name() + " (" + kind + ")" + (at.isUp() ? "" : ", which is down: unknown");
    }

    private static Result drop(BridgeDomain domain, Port ingress, long src, long dst, int vlan, List<String> steps,
            DropReason reason) {
        steps.add("drop: " + reason.label() + " (" + reason.description() + ")");
        return new Result(domain.name(), ingress.name(), MacAddress.toString(src), MacAddress.toString(dst), vlan,
                steps, "drop", List.of(), reason.label());
    }

    private static ByteBuf build(long src, long dst, int vlan) {
        ByteBuf frame = Unpooled.buffer(64);
        frame.writeZero(64);
        EthernetFrame.writeMac(frame, 0, dst);
        EthernetFrame.writeMac(frame, 6, src);
        if (vlan >= 0) {
            frame.setShort(12, EthernetFrame.ETHER_TYPE_VLAN);
            frame.setShort(14, vlan & 0x0FFF);
            frame.setShort(16, 0x0800);
        } else {
            frame.setShort(12, 0x0800);
        }
        return frame;
    }
}
