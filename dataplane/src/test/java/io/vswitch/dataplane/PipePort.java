package io.vswitch.dataplane;

import io.vswitch.nativetap.FramePipe;

import java.util.List;

/** A frame-fd port over one end of a {@link FramePipe}: a TAP queue without a device, for tests without root. */
final class PipePort extends FdPort {
    private final FramePipe pipe;

    PipePort(String name, FramePipe pipe, boolean vnetHeader, Dataplane dataplane) {
        super(name, List.of(pipe.portEnd()), vnetHeader, dataplane);
        this.pipe = pipe;
    }

    @Override
    public String kind() {
        return "pipe";
    }

    @Override
    protected void closeQueues() {
        pipe.closePortEnd();
    }
}
