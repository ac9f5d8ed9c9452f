// A TCP relay in front of a server, for one client process: it can hold everything sent either way
// from a chosen moment (the first client bytes matching a pattern) and deliver it later, in order.
// That is a request already sent when a network partition starts, arriving after it heals, or what
// a paused process had sent before it stopped: the late write fencing is for.
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';

export interface Relay {
  /** `target` (`<scheme>://host:port`) with the relay's address instead of the server's. */
  url: string;
  /** Holds both ways from the first client bytes matching `trigger` on (that chunk included); resolves then. `andThen` runs at that moment, synchronously. */
  holdFrom(trigger: RegExp, andThen?: () => void): Promise<void>;
  /** Holds both ways from now on. */
  hold(): void;
  /** Delivers what was held, in order, then relays freely again. Returns the client bytes delivered (latin1). */
  release(): string;
  close(): Promise<void>;
}

export async function startRelay(target: string): Promise<Relay> {
  const url = new URL(target);
  let holding = false;
  let trigger: { pattern: RegExp; fire(): void } | undefined;
  const held: Array<() => void> = [];
  let heldFromClient = '';
  const sockets = new Set<Socket>();

  const pipe = (from: Socket, to: Socket, fromClient: boolean) => {
    from.on('data', (chunk: Buffer) => {
      if (fromClient && trigger && trigger.pattern.test(chunk.toString('latin1'))) trigger.fire();
      if (!holding) { to.write(chunk); return; }
      held.push(() => to.write(chunk));
      if (fromClient) heldFromClient += chunk.toString('latin1');
    });
    from.on('error', () => undefined); // the close that follows is what is relayed
    from.on('close', () => { if (holding) held.push(() => to.end()); else to.end(); });
  };
  const server = createServer((client) => {
    const upstream = connect(Number(url.port), url.hostname);
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); }
    pipe(client, upstream, true);
    pipe(upstream, client, false);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;

  return {
    url: `${url.protocol}//127.0.0.1:${port}`,
    holdFrom: (pattern, andThen) => new Promise<void>((resolve) => {
      trigger = { pattern, fire: () => { trigger = undefined; holding = true; andThen?.(); resolve(); } };
    }),
    hold: () => { holding = true; },
    release: () => {
      holding = false;
      for (const deliver of held.splice(0)) deliver();
      const delivered = heldFromClient;
      heldFromClient = '';
      return delivered;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
