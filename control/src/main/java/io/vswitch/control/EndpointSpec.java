package io.vswitch.control;

/**
 * A container attached to a network: what the daemon made for it and what the state file keeps,
 * so that a restart finds it again and never hands its address to another.
 *
 * @param id     unique on this daemon: the key detach and CNI use (a CNI attachment is
 *               {@code containerID/ifname}, a Docker endpoint its EndpointID, the CLI's its name)
 * @param name   the name others know the container by (for DNS), or null
 * @param port   the switch port (the TAP's name in the daemon's namespace)
 * @param netns  the container's network namespace, as a path
 * @param ifname the interface's name inside it (eth0)
 * @param mac    its MAC address
 * @param ipv4   its IPv4 address with prefix (198.18.61.2/24), or null
 * @param ipv6   its IPv6 address with prefix, or null
 * @param gateway  the IPv4 gateway its default route goes through, or null
 * @param gateway6 the IPv6 one
 * @param mtu    its interface's MTU when lower than the network's, else null
 * @param owner  who attached it: cli, cni or docker
 * @param aliases other names the container answers to on this network (DNS), or null
 */
public record EndpointSpec(String id, String name, String port, String netns, String ifname, String mac,
        String ipv4, String ipv6, String gateway, String gateway6, Integer mtu, String owner, java.util.List<String> aliases) {
    public EndpointSpec {
        aliases = aliases == null || aliases.isEmpty() ? null : java.util.List.copyOf(aliases);
    }

    /** The same endpoint, in the sandbox at {@code netns} (or back in the daemon's namespace, null). */
    public EndpointSpec inNamespace(String netns) {
        return new EndpointSpec(id, name, port, netns, ifname, mac, ipv4, ipv6, gateway, gateway6, mtu, owner, aliases);
    }
}
