import { Agent, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dialer } from './dial.js';

/**
 * Keep-alive pool for forward-form (plain `GET http://…`) requests. Requests name the
 * validated IP as `host`, so the pool is keyed by address:port and every socket goes
 * through the injected dialer (no lookup, TCP_NODELAY set).
 */
export class ForwardAgent extends Agent {
  readonly #dial: Dialer;

  constructor(dial: Dialer) {
    super({ keepAlive: true, maxFreeSockets: 64, timeout: 60_000 });
    this.#dial = dial;
  }

  override createConnection(options: ClientRequestArgs): Duplex {
    const socket = this.#dial({
      address: options.host ?? '',
      port: Number(options.port),
      family: options.family === 6 ? 6 : 4,
    });
    socket.setNoDelay(true);
    return socket;
  }
}

/**
 * The upstream side of one intercepted tunnel: always the same validated address, and
 * the first connection is the one already dialled (and handshaking) while the client's
 * TLS handshake ran. One socket at a time keeps requests in the order the client sent them.
 */
export class TunnelAgent extends Agent {
  #first: Duplex | null;
  readonly #dialNew: () => Duplex;

  constructor(first: Duplex, dialNew: () => Duplex) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
    this.#first = first;
    this.#dialNew = dialNew;
  }

  override createConnection(): Duplex {
    const first = this.#first;
    this.#first = null;
    // A pre-dialled socket that already failed (upstream closed it while idle, or it was
    // refused during the client's handshake) is replaced by a fresh dial, whose own error
    // then reaches the request.
    return first && !first.destroyed ? first : this.#dialNew();
  }
}
