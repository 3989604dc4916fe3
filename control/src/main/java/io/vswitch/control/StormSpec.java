package io.vswitch.control;

/**
 * Storm limits of a port (or of every port of a network): frames per second each port may make
 * the switch flood, by kind; over it they are dropped at ingress and counted. Null: the
 * network's, else the daemon's default; 0: no limit.
 */
public record StormSpec(Long broadcast, Long multicast, Long unknownUnicast) {
}
