// Listener conflicts within one Gateway (its own listeners, then those of its ListenerSets). Two
// listeners on one port conflict when Envoy could not tell their traffic apart:
//   - ProtocolConflict: protocols that cannot share a socket (HTTP vs HTTPS/TLS vs TCP). UDP uses
//     another transport, so a UDP listener shares its port number with any TCP-based one.
//   - HostnameConflict: the same protocol family and the same hostname (none counts as one value);
//     TCP and UDP listeners have no hostname, so a second one on the port always conflicts.
// Precedence decides who keeps the port: the Gateway's listeners in order, then ListenerSets by
// creationTimestamp and namespace/name (the order of `listeners`). The loser is Conflicted=True,
// Accepted=False and Programmed=False with the same reason, and is left out of the snapshot.
import type { ListenerModel } from './gateway.ts';

/** Protocols that can share a port: those that tell connections apart the same way. */
const FAMILY: Record<string, string> = { HTTP: 'http', HTTPS: 'tls', TLS: 'tls', TCP: 'tcp', UDP: 'udp' };

function transport(protocol: string): 'udp' | 'tcp' {
  return protocol === 'UDP' ? 'udp' : 'tcp';
}

function describe(l: ListenerModel): string {
  return l.owner ? `listener ${l.name} of ${l.owner.kind} ${l.owner.namespace}/${l.owner.name}` : `Gateway listener ${l.name}`;
}

/** `listeners` in precedence order; returns them in the same order with conflicts marked. */
export function markConflicts(listeners: ListenerModel[]): ListenerModel[] {
  const winners = new Map<string, ListenerModel[]>(); // "<transport>/<port>" → listeners kept
  return listeners.map((l) => {
    if (l.accepted.status !== 'True') return l;
    const port = `${transport(l.protocol)}/${l.port}`;
    const kept = winners.get(port) ?? [];
    const family = FAMILY[l.protocol] ?? l.protocol;
    const other = kept.find((k) => (FAMILY[k.protocol] ?? k.protocol) !== family);
    const sameHost = kept.find((k) => family === 'tcp' || family === 'udp' || (k.hostname ?? '') === (l.hostname ?? ''));
    if (!other && !sameHost) {
      winners.set(port, [...kept, l]);
      return l;
    }
    const reason = other ? 'ProtocolConflict' : 'HostnameConflict';
    const message = other
      ? `port ${l.port} is already used by ${describe(other)} with protocol ${other.protocol}`
      : `port ${l.port} and hostname ${l.hostname ?? '(none)'} are already used by ${describe(sameHost!)}`;
    return { ...l, usable: false, accepted: { status: 'False', reason, message }, conflicted: { status: 'True', reason, message } };
  });
}
