// A stand-in for the model APIs on loopback HTTPS: the Anthropic Messages API, enough for the
// real Claude Code CLI to run a scripted conversation, and the OpenAI Responses API for Codex
// (fake-openai-responses.ts). For Messages: it streams SSE like the real API (message_start, per
// block content_block_start/delta/stop, message_delta, message_stop) and records every request
// so a test can see exactly what left the sandbox (path, headers — the API key — and body).
// Replies come from a `Script` the test sets; requests Claude Code makes on the side (session
// title, HEAD / probe, token counting) get plausible answers so they never look like errors,
// because Claude Code retries a 5xx about 15 times with back-off and a broken fake would look
// like a hang.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  streamResponses,
  type ResponsesRequest,
  type ResponsesScript,
} from './fake-openai-responses.js';

/** What GET / answers, so a test can tell the fake server's reply from any other. */
export const FAKE_ROOT_BODY = 'fake model API on loopback\n';

/** One request as the fake server received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path including the query (`/v1/messages?beta=true`). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** A content block of a scripted assistant reply. */
export type ReplyBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool_use'; readonly name: string; readonly input: Record<string, unknown> };

export interface ScriptedReply {
  readonly blocks: readonly ReplyBlock[];
  readonly stopReason: 'end_turn' | 'tool_use';
}

/** The parts of a Messages API request body a script looks at. */
export interface MessagesRequest {
  readonly model?: string;
  readonly stream?: boolean;
  readonly tools?: readonly { readonly name?: string }[];
  readonly messages?: readonly {
    readonly role: string;
    readonly content: string | readonly Record<string, unknown>[];
  }[];
}

/** Decides the reply to a main-turn request (one that offers tools). */
export type Script = (request: MessagesRequest) => ScriptedReply;

export interface FakeModelApi {
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** The script for main-turn Messages requests; replaced by each test. */
  script: Script;
  /** The script for Responses API requests. */
  responsesScript: ResponsesScript;
  close(): Promise<void>;
}

interface Scripts {
  script: Script;
  responsesScript: ResponsesScript;
}

type ContentBlock = Record<string, unknown>;

function listBlocks(message: {
  readonly content: string | readonly ContentBlock[];
}): ContentBlock[] {
  return typeof message.content === 'string' ? [] : [...message.content];
}

/** Every tool_result block the conversation holds, oldest first (what the tool calls returned). */
export function findToolResults(request: MessagesRequest): ContentBlock[] {
  return (request.messages ?? [])
    .filter((message) => message.role === 'user')
    .flatMap(listBlocks)
    .filter((block) => block['type'] === 'tool_result');
}

/** The plain text of a tool_result block (its content is a string or a list of text blocks). */
export function readToolResultText(block: ContentBlock): string {
  const content = block['content'];
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : '',
    )
    .join('');
}

/**
 * A script that makes the agent call `calls` one after another (the next once the previous
 * result is back), then ends the turn with `doneText`. Stateless: the step is the number of
 * tool results already in the conversation, so retries and parallel side requests cannot
 * put it out of step.
 */
export function scriptToolCalls(
  calls: readonly { readonly name: string; readonly input: Record<string, unknown> }[],
  doneText: string,
): Script {
  return (request) => {
    const next = calls[findToolResults(request).length];
    return next === undefined
      ? { blocks: [{ type: 'text', text: doneText }], stopReason: 'end_turn' }
      : { blocks: [{ type: 'tool_use', ...next }], stopReason: 'tool_use' };
  };
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** Side requests (session title, topic detection) offer no tools; JSON satisfies them all. */
function replyToSideRequest(): ScriptedReply {
  return {
    blocks: [{ type: 'text', text: '{"title":"Scripted test session"}' }],
    stopReason: 'end_turn',
  };
}

function toContentBlock(block: ReplyBlock): Record<string, unknown> {
  return block.type === 'text'
    ? { type: 'text', text: block.text }
    : { type: 'tool_use', id: newId('toolu'), name: block.name, input: block.input };
}

function writeEvent(res: ServerResponse, type: string, data: Record<string, unknown>): void {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/** Streams `reply` as the Messages API does, tool input split across input_json_delta events. */
function streamReply(res: ServerResponse, model: string, reply: ScriptedReply): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  writeEvent(res, 'message_start', {
    message: {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 50, output_tokens: 1 },
    },
  });
  reply.blocks.forEach((block, index) => {
    const full = toContentBlock(block);
    if (block.type === 'text') {
      writeEvent(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
      writeEvent(res, 'content_block_delta', {
        index,
        delta: { type: 'text_delta', text: block.text },
      });
    } else {
      writeEvent(res, 'content_block_start', { index, content_block: { ...full, input: {} } });
      const json = JSON.stringify(block.input);
      const cut = Math.ceil(json.length / 2);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        writeEvent(res, 'content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        });
      }
    }
    writeEvent(res, 'content_block_stop', { index });
  });
  writeEvent(res, 'message_delta', {
    delta: { stop_reason: reply.stopReason, stop_sequence: null },
    usage: { output_tokens: 20 },
  });
  writeEvent(res, 'message_stop', {});
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function answerMessages(res: ServerResponse, body: string, script: Script): void {
  let request: MessagesRequest;
  try {
    request = JSON.parse(body) as MessagesRequest;
  } catch {
    sendJson(res, 400, {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'body is not JSON' },
    });
    return;
  }
  const model = request.model ?? 'claude-fake';
  const reply = (request.tools ?? []).length === 0 ? replyToSideRequest() : script(request);
  if (request.stream === true) {
    streamReply(res, model, reply);
    return;
  }
  sendJson(res, 200, {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content: reply.blocks.map(toContentBlock),
    stop_reason: reply.stopReason,
    stop_sequence: null,
    usage: { input_tokens: 50, output_tokens: 20 },
  });
}

function answerResponses(res: ServerResponse, body: string, script: ResponsesScript): void {
  const request = JSON.parse(body) as ResponsesRequest;
  streamResponses(res, request.model ?? 'gpt-fake', script(request));
}

function route(req: IncomingMessage, res: ServerResponse, body: string, scripts: Scripts): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/v1/messages') answerMessages(res, body, scripts.script);
  else if (req.method === 'POST' && path === '/v1/responses')
    answerResponses(res, body, scripts.responsesScript);
  else if (req.method === 'POST' && path === '/v1/messages/count_tokens')
    sendJson(res, 200, { input_tokens: 50 });
  else if (req.method === 'HEAD' || (req.method === 'GET' && path === '/')) {
    // Claude Code probes reachability with HEAD /; a curl GET in a test is told who answered.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.method === 'HEAD' ? undefined : FAKE_ROOT_BODY);
  } else {
    // Feature flags, account and metrics endpoints: a 404 makes Claude Code fall back to its
    // defaults instead of retrying as it would on a 5xx.
    sendJson(res, 404, {
      type: 'error',
      error: { type: 'not_found_error', message: `fake server: no ${req.method ?? ''} ${path}` },
    });
  }
}

/** Starts the fake APIs on 127.0.0.1 (port 0) with the given TLS key and certificate. */
export async function startFakeModelApi(tls: { key: Buffer; cert: Buffer }): Promise<FakeModelApi> {
  const requests: RecordedRequest[] = [];
  const state: Scripts = {
    script: () => {
      throw new Error('fake Messages API: no script set for this test');
    },
    responsesScript: () => {
      throw new Error('fake Responses API: no script set for this test');
    },
  };
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: { ...req.headers },
        body,
      });
      try {
        route(req, res, body, state);
      } catch (err) {
        // A script error is the test's bug: answer 400 (not 5xx, which Claude Code retries)
        // with the reason, so it shows in the agent's output.
        sendJson(res, 400, {
          type: 'error',
          error: { type: 'invalid_request_error', message: String(err) },
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    get script() {
      return state.script;
    },
    set script(script: Script) {
      state.script = script;
    },
    get responsesScript() {
      return state.responsesScript;
    },
    set responsesScript(script: ResponsesScript) {
      state.responsesScript = script;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
