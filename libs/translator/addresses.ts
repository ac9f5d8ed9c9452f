// Gateway spec.addresses: which requested addresses the proxy can serve, and what status says.
// Whether an address is on a local interface is I/O, so the caller passes the usable set
// (TranslateOptions.usableAddresses); without it every well-formed IP address counts as usable.
import { isIP } from 'node:net';
import { notOk, type Verdict } from './status.ts';

export interface GatewayAddress {
  type: string;
  value: string;
}

export interface AddressStatus {
  /** status.addresses: what the Gateway can be reached at. */
  addresses: GatewayAddress[];
  /** Accepted=False/UnsupportedAddress for an address type Gantry does not implement. */
  accepted?: Verdict;
  /** Programmed=False/AddressNotUsable for an address the proxy cannot serve. */
  programmed?: Verdict;
}

export function addressStatus(
  requested: Array<{ type: string; value?: string }>, defaultAddress: string, usable?: readonly string[],
): AddressStatus {
  if (requested.length === 0) return { addresses: [{ type: 'IPAddress', value: defaultAddress }] };
  const addresses: GatewayAddress[] = [];
  const unsupported: string[] = [];
  const unusable: string[] = [];
  for (const { type, value } of requested) {
    if (type !== 'IPAddress' && type !== 'Hostname') {
      unsupported.push(`${type} ${value ?? ''}`.trim());
    } else if (value === undefined) {
      // An address of a type without a value: the implementation picks one.
      addresses.push({ type: 'IPAddress', value: defaultAddress });
    } else if (type === 'IPAddress' && (isIP(value) === 0 || (usable !== undefined && !usable.includes(value)))) {
      unusable.push(value);
    } else {
      addresses.push({ type, value });
    }
  }
  const out: AddressStatus = { addresses };
  if (unsupported.length > 0) out.accepted = notOk('UnsupportedAddress', `address types not supported (IPAddress and Hostname are): ${unsupported.join(', ')}`);
  if (unsupported.length > 0 || unusable.length > 0) {
    out.programmed = unusable.length > 0
      ? notOk('AddressNotUsable', `addresses not on any interface of the proxy: ${unusable.join(', ')}`)
      : notOk('UnsupportedAddress', out.accepted!.message);
  }
  return out;
}
