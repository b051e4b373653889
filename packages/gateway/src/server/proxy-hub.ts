import { timingSafeEqual } from 'node:crypto';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type {
  ControlRequest,
  ControlResponse,
  DecisionEvent,
  InferenceRouteConfig,
  PolicyAck,
  ProxyControlServer,
  ProxyHealth,
  SandboxConfig,
} from '@openshell/proto';

type ProxyStream = ServerDuplexStream<ControlRequest, ControlResponse>;

export interface ProxyCallbacks {
  /** Every sandbox the proxy must enforce, with its newest revision and credentials. */
  fullSet(): Promise<readonly SandboxConfig[]>;
  routes(): Promise<readonly InferenceRouteConfig[]>;
  ack(ack: PolicyAck): void;
  decision(event: DecisionEvent): void;
  connected(up: boolean): void;
  log(message: string): void;
}

export interface ProxyHub {
  readonly service: ProxyControlServer;
  isConnected(): boolean;
  lastHealth(): ProxyHealth | undefined;
  /** Sends one sandbox's config; false when no proxy is connected (it gets the full set on hello). */
  upsert(config: SandboxConfig): boolean;
  remove(sandboxId: string): boolean;
  setRoutes(routes: readonly InferenceRouteConfig[]): boolean;
  closeAll(): void;
}

function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The gateway side of ProxyControl: the proxy dials in with its token, says hello, and gets
 * the complete desired state, then every change as it happens (no polling on either side).
 * The newest stream wins, so a restarted proxy replaces its predecessor's.
 */
export function createProxyHub(token: string, callbacks: ProxyCallbacks): ProxyHub {
  let current: ProxyStream | undefined;
  let health: ProxyHealth | undefined;

  function write(message: ControlResponse): boolean {
    if (current === undefined) return false;
    current.write(message);
    return true;
  }

  async function greet(call: ProxyStream): Promise<void> {
    const [sandboxes, routes] = await Promise.all([callbacks.fullSet(), callbacks.routes()]);
    if (current !== call) return;
    // The full set first: the proxy treats the first message as the complete desired state.
    call.write({ payload: { $case: 'sandboxSet', value: { sandboxes: [...sandboxes] } } });
    call.write({ payload: { $case: 'inferenceRoutes', value: { routes: [...routes] } } });
  }

  const service: ProxyControlServer = {
    control(call: ProxyStream) {
      const auth = String(call.metadata.get('authorization')[0] ?? '');
      const presented = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
      if (!sameToken(presented, token)) {
        call.emit('error', {
          code: status.UNAUTHENTICATED,
          details: 'unknown or missing proxy token',
        });
        return;
      }
      const drop = (): void => {
        if (current !== call) return;
        current = undefined;
        callbacks.connected(false);
      };
      call.on('data', (message: ControlRequest) => {
        const payload = message.payload;
        if (payload === undefined) return;
        switch (payload.$case) {
          case 'hello': {
            const previous = current;
            current = call;
            if (previous !== undefined && previous !== call) previous.end();
            callbacks.connected(true);
            greet(call).catch((error: unknown) => {
              callbacks.log(`could not send the proxy its sandboxes: ${String(error)}`);
            });
            return;
          }
          case 'policyAck':
            callbacks.ack(payload.value);
            return;
          case 'decision':
            callbacks.decision(payload.value);
            return;
          case 'health':
            health = payload.value;
            return;
        }
      });
      call.on('end', () => {
        drop();
        call.end();
      });
      call.on('error', drop);
      call.on('cancelled', drop);
    },
  };

  return {
    service,
    isConnected: () => current !== undefined,
    lastHealth: () => health,
    upsert: (config) => write({ payload: { $case: 'upsert', value: config } }),
    remove: (sandboxId) => write({ payload: { $case: 'remove', value: { sandboxId } } }),
    setRoutes: (routes) =>
      write({ payload: { $case: 'inferenceRoutes', value: { routes: [...routes] } } }),
    closeAll() {
      current?.end();
      current = undefined;
    },
  };
}
