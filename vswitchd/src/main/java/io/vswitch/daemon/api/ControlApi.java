package io.vswitch.daemon.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.vswitch.control.Deadline;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.control.StaticEntry;
import io.vswitch.control.Views;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Port;
import io.vswitch.daemon.Attachments;
import io.vswitch.daemon.Daemon;
import io.vswitch.daemon.NetworkState;
import io.vswitch.daemon.PortFactory;
import io.vswitch.daemon.SpecException;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * The control API's resources. Request bodies are read strictly into the contract's records
 * ({@link Json#STRICT}); responses are the contract's {@link Views} ({@link ApiViews}). Reads come
 * from the view of the networks the daemon's conductor publishes and the structures the data
 * plane publishes (counters are summed stripes, the MAC table is read lock-free), so they answer
 * while a change is in progress; changes go to the conductor ({@link Daemon}), which checks them
 * with the same rules as the config file, each within a deadline that started when its request
 * arrived ({@link #CALL_BUDGET}).
 *
 * <pre>
 *   GET    /v1/info                           pid, version, uptime
 *   GET    /v1/show                           networks, their ports (state, MTU) and counters
 *   GET    /v1/stats                          totals and drops by reason
 *   GET    /v1/cluster                        the cluster: session, hosts (VTEP, lease), networks
 *   GET    /v1/networks                       networks and their settings
 *   GET    /v1/networks/NET                   one network
 *   GET    /v1/networks/NET/fdb               the MAC table of one network
 *   POST   /v1/networks                       NetworkSpec
 *   DELETE /v1/networks/NET
 *   PUT    /v1/networks/NET/peers             {"peers": [...]}: an overlay network's remote VTEPs
 *   POST   /v1/networks/NET/ports             PortSpec
 *   DELETE /v1/networks/NET/ports/PORT
 *   POST   /v1/networks/NET/fdb               StaticEntry
 *   DELETE /v1/networks/NET/fdb/MAC
 *   POST   /v1/networks/NET/fdb/flush         {"port"} optional
 *   POST   /v1/networks/NET/trace             {"in", "src", "dst", "vlan"}
 *   POST   /v1/networks/NET/capture           {"port", "filter", "count", "output"}: pcap to a FIFO or new file
 *   GET    /v1/captures                       running captures
 *   DELETE /v1/captures/ID
 *   PUT    /v1/networks/NET/mirrors           {"mirrors": [{"name", "ports", "direction", "output"}]}
 * </pre>
 * A refused request answers 4xx with {"error": reason} and changes nothing; a change that could
 * not be saved answers 500 and is undone; one that did not finish within its deadline answers 503
 * and was not made, or was undone.
 */
public final class ControlApi {
    public static final String VERSION = "0.1.0";
    /** How long a call may take, from when its request arrived (-Dvswitch.api.callMillis, default 30 s). */
    public static final Duration CALL_BUDGET = Duration.ofMillis(Long.getLong("vswitch.api.callMillis", 30_000));

    /** What to answer: a status and a body of the contract. */
    public record Reply(int status, Object body) {
    }

    private final Daemon daemon;
    private final ApiViews views;

    public ControlApi(Daemon daemon) {
        this.daemon = daemon;
        this.views = new ApiViews(daemon);
    }

    /** Handles one request within the default budget from now. */
    public Reply handle(String method, String path, String body) {
        return handle(method, path, body, Deadline.in(CALL_BUDGET));
    }

    /** Handles one request; a refusal becomes a 4xx or 5xx reply with the reason. */
    public Reply handle(String method, String path, String body, Deadline deadline) {
        try {
            return route(method, path, body, deadline);
        } catch (ApiException e) {
            return new Reply(e.status(), new Views.Error(e.getMessage()));
        } catch (SpecException e) {
            return switch (e.kind()) {
                // A bad value is named by its field, as the config file's errors name their key.
                case INVALID -> new Reply(400, new Views.Error(e.field() + ": " + e.getMessage()));
                case CONFLICT -> new Reply(409, new Views.Error(e.getMessage()));
                case NOT_FOUND -> new Reply(404, new Views.Error(e.getMessage()));
            };
        } catch (PortFactory.OpenException e) {
            return new Reply(409, new Views.Error(e.getMessage()));
        } catch (Daemon.UnavailableException e) {
            return new Reply(503, new Views.Error(e.getMessage()));
        } catch (Daemon.PersistException e) {
            return new Reply(500, new Views.Error(e.getMessage()));
        } catch (Deadline.Exceeded e) {
            return new Reply(503, new Views.Error(e.getMessage()));
        } catch (RejectedExecutionException e) {
            return new Reply(503, new Views.Error(e.getMessage()));
        }
    }

    private Reply route(String method, String path, String body, Deadline deadline) throws PortFactory.OpenException {
        String[] parts = path.replaceAll("/+$", "").split("/", -1);
        if (parts.length < 3 || !parts[0].isEmpty() || !parts[1].equals("v1")) {
            throw ApiException.notFound("no such resource: " + path);
        }
        for (int i = 3; i < parts.length; i++) {
            parts[i] = decode(parts[i]);
        }
        String resource = parts[2];
        int n = parts.length;
        String what = method + " " + path;
        switch (method) {
            case "GET" -> {
                if (n == 3 && resource.equals("info")) {
                    return ok(views.info());
                }
                if (n == 3 && resource.equals("show")) {
                    return ok(views.show());
                }
                if (n == 3 && resource.equals("cluster")) {
                    return ok(views.cluster());
                }
                if (n == 3 && resource.equals("captures")) {
                    return ok(daemon.captures().list().stream().map(ApiViews::capture).toList());
                }
                if (n == 3 && resource.equals("stats")) {
                    return ok(views.stats());
                }
                if (n == 3 && resource.equals("endpoints")) {
                    return ok(daemon.networks().stream().flatMap(s -> s.endpoints().stream().map(e -> views.endpoint(e, s))).toList());
                }
                if (resource.equals("networks")) {
                    if (n == 5 && parts[4].equals("endpoints")) {
                        NetworkState s = daemon.network(parts[3]);
                        return ok(s.endpoints().stream().map(e -> views.endpoint(e, s)).toList());
                    }
                    if (n == 3) {
                        return ok(daemon.networks().stream().map(s -> views.network(s, false)).toList());
                    }
                    if (n == 4) {
                        return ok(views.network(daemon.network(parts[3]), false));
                    }
                    if (n == 5 && parts[4].equals("fdb")) {
                        return ok(views.fdb(daemon.network(parts[3]).domain()));
                    }
                }
            }
            case "POST" -> {
                if (resource.equals("networks") && n == 3) {
                    return created(views.network(daemon.addNetwork(read(body, NetworkSpec.class), deadline), false));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("ports")) {
                    Port port = daemon.addPort(parts[3], read(body, PortSpec.class), deadline);
                    return created(views.port(port, port.domain(), null));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("fdb")) {
                    StaticEntry entry = read(body, StaticEntry.class);
                    daemon.addStatic(parts[3], entry, deadline);
                    return created(new Views.Added(entry.mac()));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("fdb") && parts[5].equals("flush")) {
                    Requests.Flush flush = body == null || body.isBlank() ? new Requests.Flush(null) : read(body, Requests.Flush.class);
                    return ok(new Views.Flushed(daemon.flush(parts[3], flush.port(), deadline)));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("endpoints")) {
                    Attachments.Endpoint e = daemon.attach(parts[3], read(body, Requests.Attach.class), deadline);
                    return created(views.endpoint(e, daemon.network(parts[3])));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("endpoints") && parts[5].equals("detach")) {
                    NetworkState before = daemon.network(parts[3]);
                    return ok(views.endpoint(daemon.detach(parts[3], read(body, Requests.Detach.class), deadline), before));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("capture")) {
                    try {
                        return created(ApiViews.capture(startCapture(parts[3], read(body, Requests.Capture.class))));
                    } catch (java.io.IOException e) {
                        throw new ApiException(503, "cannot start the capture: " + e.getMessage());
                    }
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("trace")) {
                    return ok(views.trace(parts[3], read(body, Requests.Trace.class)));
                }
            }
            case "PUT" -> {
                if (resource.equals("networks") && n == 5 && parts[4].equals("mirrors")) {
                    return ok(views.network(daemon.setMirrors(parts[3], read(body, Requests.Mirrors.class).mirrors(), deadline), false));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("peers")) {
                    return ok(views.network(daemon.setPeers(parts[3], read(body, Requests.Peers.class).peers(), deadline), false));
                }
            }
            case "DELETE" -> {
                if (resource.equals("networks") && n == 4) {
                    return ok(new Views.Removed(parts[3], daemon.removeNetwork(parts[3], deadline)));
                }
                if (resource.equals("captures") && n == 4) {
                    long id;
                    try {
                        id = Long.parseLong(parts[3]);
                    } catch (NumberFormatException e) {
                        throw ApiException.badRequest("a capture's id is a number, got " + parts[3]);
                    }
                    if (!daemon.captures().stop(id)) {
                        throw ApiException.notFound("no capture " + id);
                    }
                    return ok(new Views.Removed(parts[3]));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("ports")) {
                    daemon.removePort(parts[3], parts[5], deadline);
                    return ok(new Views.Removed(parts[5]));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("fdb")) {
                    daemon.removeMac(parts[3], parts[5], deadline);
                    return ok(new Views.Removed(parts[5]));
                }
            }
            default -> throw new ApiException(405, "method " + method + " is not supported");
        }
        throw ApiException.notFound("no such resource: " + what);
    }

    /** Starts a capture of a network (or one port of it); bad values are named by their field. */
    private io.vswitch.capture.CaptureSession startCapture(String net, Requests.Capture r) throws java.io.IOException {
        BridgeDomain domain = daemon.network(net).domain();
        if (r.port() != null && domain.port(r.port()) == null) {
            throw SpecException.notFound("port", "network " + net + " has no port \"" + r.port() + "\"");
        }
        try {
            return daemon.captures().start(domain, r.port(), r.filter(), r.count() == null ? 0 : r.count(),
                    r.output() == null ? null : java.nio.file.Path.of(r.output()));
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            int colon = m.indexOf(": ");
            boolean named = colon > 0 && m.substring(0, colon).matches("[a-z]+");
            throw new SpecException(named ? m.substring(0, colon) : "filter", named ? m.substring(colon + 2) : m);
        } catch (IllegalStateException e) {
            throw SpecException.conflict("capture", e.getMessage());
        }
    }

    private static Reply ok(Object body) {
        return new Reply(200, body);
    }

    private static Reply created(Object body) {
        return new Reply(201, body);
    }

    private static String decode(String segment) {
        try {
            return URLDecoder.decode(segment, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("bad escape in the path: " + segment);
        }
    }

    /** Reads a request body into its record, strictly. */
    static <T> T read(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            throw ApiException.badRequest("a JSON body is required");
        }
        try {
            T value = Json.STRICT.readValue(body, type);
            if (value == null) {
                throw ApiException.badRequest("invalid JSON: expected an object");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            throw ApiException.badRequest("invalid JSON: unknown field \"" + e.getPropertyName() + "\"; expected one of "
                    + e.getKnownPropertyIds());
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? "" : "\"" + e.getPath().getLast().getFieldName() + "\": ";
            throw ApiException.badRequest("invalid JSON: " + field + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("invalid JSON: " + e.getOriginalMessage());
        }
    }
}
