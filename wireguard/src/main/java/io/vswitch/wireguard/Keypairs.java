package io.vswitch.wireguard;

/**
 * A peer's three keypairs (whitepaper 6.1; the kernel's {@code noise_keypairs}):
 * <ul>
 *   <li>{@code current}: what we send with;</li>
 *   <li>{@code previous}: the one before, still received on while packets under it arrive;</li>
 *   <li>{@code next}: made by us as responder, not yet confirmed: we receive with it, and the
 *       initiator's first transport message under it makes it current. A responder never sends
 *       first, so a replayed initiation cannot make it send under keys the peer never had.</li>
 * </ul>
 * An initiator's new keypair is current at once (the response confirmed it).
 *
 * <p>Threading: fields are volatile and read without a lock on the data path; every change is
 * made under the owning peer's lock, which also removes retired keypairs from the index table.
 */
final class Keypairs {
    volatile Keypair current;
    volatile Keypair previous;
    volatile Keypair next;

    /** Installs a keypair we made as initiator; returns what is retired (up to two), for the index table. */
    Keypair[] installAsInitiator(Keypair fresh) {
        Keypair[] retired;
        if (next != null) {
            // A pending responder keypair loses: it becomes previous so its packets in flight still open.
            retired = new Keypair[] {previous, current};
            previous = next;
            next = null;
        } else {
            retired = new Keypair[] {previous};
            previous = current;
        }
        current = fresh;
        return retired;
    }

    /** Installs a keypair we made as responder, as next; returns what is retired. */
    Keypair[] installAsResponder(Keypair fresh) {
        Keypair[] retired = {next, previous};
        next = fresh;
        previous = null;
        return retired;
    }

    /** The first authentic packet under {@code next} arrived: it becomes current. Returns what is retired. */
    Keypair confirm(Keypair received) {
        if (next != received) {
            return null;
        }
        Keypair retired = previous;
        previous = current;
        current = received;
        next = null;
        return retired;
    }

    Keypair[] clear() {
        Keypair[] all = {current, previous, next};
        current = null;
        previous = null;
        next = null;
        return all;
    }
}
