package io.vswitch.tapio;

import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.FdPort;
import io.vswitch.nativetap.TapDevice;

import java.util.List;

/**
 * A switch port backed by one TAP device with one or more queues (one fd each, IFF_MULTI_QUEUE
 * when there are several loops), read and written as an {@link FdPort}. The devices are what
 * {@link Taps} opened: created here, taken over, or re-attached in a container's namespace.
 */
public final class TapPort extends FdPort {
    private final List<TapDevice> devices;

    private volatile boolean persistentNow;
    /**
     * The path of the namespace the queues were opened in, when that is not the daemon's own
     * (placed in a container, or re-attached there): their fds keep that namespace alive, so the
     * link watcher must find out by other means when it is deleted ({@link NamespaceHolders}).
     */
    private volatile java.nio.file.Path openedIn;
    /** The namespace the link watcher last found the device in, and the one whose qdisc it checked. */
    private long namespaceSeen;
    private long queueCheckedIn;

    TapPort(List<TapDevice> devices, boolean persistent, Dataplane dataplane) {
        this(devices.get(0).name(), devices, persistent, dataplane);
    }

    /** A port named {@code name} whatever its device is called now (a container may know it as eth0). */
    TapPort(String name, List<TapDevice> devices, boolean persistent, Dataplane dataplane) {
        super(name, devices.stream().map(TapDevice::fd).toList(), devices.get(0).options().vnetHeader(), dataplane);
        this.devices = List.copyOf(devices);
        this.persistentNow = persistent;
    }

    /** The first queue's device: name, options, where it was found. */
    public TapDevice device() {
        return devices.get(0);
    }

    /** Whether the device outlives the daemon (TUNSETPERSIST). */
    public boolean persistent() {
        return persistentNow;
    }

    /** Where the queues were opened, when it was inside a container's namespace; null: the daemon's own. */
    public java.nio.file.Path openedIn() {
        return openedIn;
    }

    void openedIn(java.nio.file.Path namespace) {
        this.openedIn = namespace;
    }

    void seenIn(long namespaceInode) {
        namespaceSeen = namespaceInode;
    }

    boolean movedSinceQueueCheck() {
        return namespaceSeen != queueCheckedIn;
    }

    void queueChecked() {
        queueCheckedIn = namespaceSeen;
    }

    void markPersistent() {
        persistentNow = true;
    }

    @Override
    public String kind() {
        return "tap";
    }

    /** Closes every queue; a non-persistent device goes away with its last queue. */
    @Override
    protected void closeQueues() {
        for (TapDevice device : devices) {
            device.close();
        }
    }
}
