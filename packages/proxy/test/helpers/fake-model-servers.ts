import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SeenRequest, TestCertificate } from './upstream-servers.js';

/**
 * A fake model server: the OpenAI-compatible API (`/v1/chat/completions`, `/v1/models`,
 * …) or the Anthropic Messages API (`/v1/messages`). Non-streaming answers echo what the
 * server received; `stream: true` answers with server-sent events, the first one at once
 * and the rest only after `release()` — so a test can prove the proxy relays the first
 * event while the upstream is still busy.
 */
export interface FakeModelServer {
  readonly name: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Streams in progress that have not been released yet. */
  readonly held: number;
  /** Holds every stream after its first event until the returned function is called. */
  holdStreams(): () => void;
  close(): Promise<void>;
}

type Api = 'openai' | 'anthropic';

function firstEvent(api: Api, model: string): string {
  return api === 'openai'
    ? `data: ${JSON.stringify({ object: 'chat.completion.chunk', model, choices: [{ delta: { content: 'first' } }] })}\n\n`
    : `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { model } })}\n\n`;
}

function lastEvents(api: Api): string {
  return api === 'openai'
    ? `data: ${JSON.stringify({ choices: [{ delta: { content: 'last' } }] })}\n\ndata: [DONE]\n\n`
    : `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', delta: { text: 'last' } })}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`;
}

/** Starts a fake model server on 127.0.0.1:0 (HTTPS when `cert` is given). */
export async function startFakeModelServer(
  name: string,
  api: Api,
  cert?: TestCertificate,
): Promise<FakeModelServer> {
  const seen: SeenRequest[] = [];
  let gate: Promise<void> = Promise.resolve();
  let held = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(record);
      const body = record.body ? (JSON.parse(record.body) as Record<string, unknown>) : {};
      const model = typeof body['model'] === 'string' ? body['model'] : '';
      if (body['stream'] === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(firstEvent(api, model));
        held++;
        const current = gate;
        void current.then(() => {
          held--;
          res.end(lastEvents(api));
        });
        return;
      }
      const answer =
        req.url === '/v1/models'
          ? { object: 'list', data: [{ id: `${name}-model` }] }
          : { server: name, model, received: record };
      const text = JSON.stringify(answer);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  };
  const server: Server = cert
    ? createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    get held() {
      return held;
    },
    holdStreams() {
      let release = (): void => undefined;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        release();
        gate = Promise.resolve();
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
