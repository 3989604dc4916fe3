package io.vswitch.daemon;

import io.vswitch.control.Deadline;
import io.vswitch.control.MirrorSpec;
import io.vswitch.control.Requests;

import java.util.List;

/**
 * The endpoints' pass-through from their callers (the API's attach and detach, the CNI verbs,
 * the Docker driver) to {@link Attachments}, each change saved before it is confirmed. Attaching
 * a container and making a Docker endpoint have a slow step, the device made in its namespace or
 * readied for its runtime, run off the conductor ({@link SlowChanges}); the rest runs on it.
 */
final class Endpoints {
    private final NetworkRegistry registry;
    private final Attachments attachments;
    private final PortFactory ports;
    private final SlowChanges slow;

    Endpoints(NetworkRegistry registry, Attachments attachments, PortFactory ports, SlowChanges slow) {
        this.registry = registry;
        this.attachments = attachments;
        this.ports = ports;
        this.slow = slow;
    }

    /** Attaches a container to a network (see {@link Attachments}); saved before it is confirmed. Any thread. */
    Attachments.Endpoint attach(String net, Requests.Attach request, Deadline deadline) throws PortFactory.OpenException {
        return slow.run("attach to network " + net, deadline, () -> {
            registry.require(net);
            return attachments.prepareAttach(net, request);
        }, attachments::open, this::commit, attachments::abandon);
    }

    /** An endpoint a runtime plumbs itself (Docker); saved before it is confirmed. Any thread. */
    Attachments.Endpoint create(String net, String id, String address4, String address6, String mac, String owner,
            Deadline deadline) throws PortFactory.OpenException {
        return slow.run("endpoint " + id + " of network " + net, deadline, () -> {
            registry.require(net);
            return attachments.prepareCreate(net, id, address4, address6, mac, owner);
        }, attachments::open, this::commit, attachments::abandon);
    }

    private Attachments.Endpoint commit(PendingEndpoint p, PortFactory.Opened opened) throws PortFactory.OpenException {
        Attachments.Endpoint e = attachments.commit(p, opened);
        registry.persistence().save(() -> attachments.detach(e));
        return e;
    }

    /** Detaches a container; the state without it is saved first. Conductor thread. */
    Attachments.Endpoint detach(String net, Requests.Detach request) {
        Network network = registry.require(net);
        Attachments.Endpoint e = attachments.find(net, request);
        List<MirrorSpec> mirrors = e.spec().port() == null ? network.mirrors
                : MirrorRules.withoutPort(network.mirrors, e.spec().port());
        registry.persistence().saveAhead(registry.specs().stream().map(s -> !s.name().equals(net) ? s : s.withEndpoints(
                s.endpoints().stream().filter(x -> !x.id().equals(e.spec().id())).toList()).withMirrors(mirrors)).toList());
        attachments.detach(e);
        Mirrors.dropGone(network, mirrors);
        return e;
    }

    /** The runtime put the endpoint into the sandbox at {@code netns} (null: back here). Conductor thread. */
    Attachments.Endpoint moved(String net, String id, String netns) {
        registry.require(net);
        Attachments.Endpoint before = attachments.find(net, new Requests.Detach(id, null, null, null));
        Attachments.Endpoint e = attachments.moved(net, id, netns);
        registry.persistence().save(() -> attachments.moved(net, id, before.spec().netns()));
        if (netns != null) {
            ports.watchClosely();
        }
        return e;
    }
}
