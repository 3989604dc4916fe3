package io.vswitch.dataplane;

/** {@link LanePathTest}'s paths with the epoll fallback: one read(2) and one write(2) per frame. */
class LanePathEpollTest extends LanePathTest {
    @Override
    Dataplane.Io io() {
        return Dataplane.Io.EPOLL;
    }
}
