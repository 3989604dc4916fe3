package io.vswitch.control;

/** A static MAC table entry: {@code mac} on {@code port}, never ages, never moves. */
public record StaticEntry(String mac, String port) {
}
