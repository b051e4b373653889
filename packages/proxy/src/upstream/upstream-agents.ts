import { Agent, type ClientRequestArgs } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpstreamConnector } from './connect-upstream.js';

type OnCreate = (error: Error | null, socket?: Duplex) => void;

function deliver(pending: Promise<Duplex>, onCreate: OnCreate): void {
  pending.then(
    (socket) => {
      onCreate(null, socket);
      // A socket from the upstream proxy arrives paused (so no byte after its CONNECT answer
      // is lost); the HTTP client attached its parser on the tick queued by onCreate, and
      // this resume is queued after it.
      socket.resume();
    },
    (error: unknown) => onCreate(error instanceof Error ? error : new Error(String(error))),
  );
}

/**
 * Keep-alive pool for forward-form (plain `GET http://…`) requests, keyed by the `host`
 * the request names: a validated address when `byName` is false (every socket is dialled
 * to exactly that address, no lookup of our own), the destination name when an upstream
 * proxy resolves names (`byName`: each socket is a CONNECT through it).
 */
export class ForwardAgent extends Agent {
  readonly #connect: UpstreamConnector;
  readonly #byName: boolean;

  constructor(connect: UpstreamConnector, byName: boolean) {
    super({ keepAlive: true, maxFreeSockets: 64, timeout: 60_000 });
    this.#connect = connect;
    this.#byName = byName;
  }

  override createConnection(options: ClientRequestArgs, onCreate: OnCreate): null {
    const host = options.host ?? '';
    const port = Number(options.port);
    const family = isIP(host) === 6 ? 6 : 4;
    const targets = this.#byName ? [] : [{ address: host, port, family } as const];
    deliver(
      this.#connect({ host, port, targets }).then((socket: Socket) => {
        socket.setNoDelay(true);
        return socket;
      }),
      onCreate,
    );
    return null;
  }
}

/**
 * The upstream side of one intercepted tunnel: always the same destination, and the
 * first connection is the one already opened (and handshaking) while the client's TLS
 * handshake ran. One socket at a time keeps requests in the order the client sent them.
 */
export class TunnelAgent extends Agent {
  #first: Promise<Duplex> | null;
  readonly #openNew: () => Promise<Duplex>;

  constructor(first: Promise<Duplex>, openNew: () => Promise<Duplex>) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
    this.#first = first;
    this.#openNew = openNew;
  }

  override createConnection(_options: ClientRequestArgs, onCreate: OnCreate): null {
    const first = this.#first;
    this.#first = null;
    // A pre-opened socket that already failed (upstream closed it while idle, or it was
    // refused during the client's handshake) is replaced by a fresh one, whose own error
    // then reaches the request.
    const socket = first
      ? first.then(
          (s) => (s.destroyed ? this.#openNew() : s),
          () => this.#openNew(),
        )
      : this.#openNew();
    deliver(socket, onCreate);
    return null;
  }
}
