// The IP addresses of this host's network interfaces: a Gateway's spec.addresses are usable only
// when the proxy can bind them (TranslateOptions.usableAddresses). Read once by the caller; the
// translator itself does no I/O. The proxy is assumed to run on the host that computes this.
import { networkInterfaces } from 'node:os';

export function localAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) out.add(info.address.replace(/%.*$/, ''));
  }
  return [...out].sort();
}
