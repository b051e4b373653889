import { posix } from 'node:path';
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import {
  SandboxPhase,
  WatchEventType,
  type ExecRequest,
  type ExecResponse,
  type ExecStart,
  type OpenShellServer,
  type Sandbox,
  type WatchSandboxesResponse,
} from '@openshell/proto';
import tar from 'tar-stream';
import { wireError } from './fake-wire-error.js';

/** One file kept in a fake sandbox's in-memory filesystem. */
export interface FakeFile {
  readonly type: 'file' | 'directory' | 'symlink';
  readonly content?: Buffer;
  readonly linkname?: string;
}

export interface FakeSandboxOptions {
  /** Delay before Provisioning → Ready (or Error). */
  readonly readyAfterMs?: number;
  /** Sandboxes created with this name go to Error with this reason instead of Ready. */
  readonly failing?: Readonly<Record<string, string>>;
  /** Download of this path answers with these raw tar bytes (to craft hostile archives). */
  readonly rawDownloads?: Readonly<Record<string, Buffer>>;
}

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

/**
 * The sandbox half of a fake gateway: records in memory, phases pushed over WatchSandboxes,
 * Exec running a tiny scripted "process" (echo, cat, exit N, kill SIG, stderr, env, sleep),
 * Connect echoing input, Upload/Download against an in-memory filesystem. Every call name is
 * appended to `calls`, so tests can assert that nothing reached the gateway.
 */
export function createFakeSandboxService(calls: string[], options: FakeSandboxOptions = {}) {
  const sandboxes = new Map<string, Sandbox>();
  const files = new Map<string, Map<string, FakeFile>>();
  const watchers = new Set<ServerWritableStream<unknown, WatchSandboxesResponse>>();
  const execStarts: ExecStart[] = [];
  let nextId = 1;

  const broadcast = (type: WatchEventType, sandbox: Sandbox): void => {
    for (const w of watchers) w.write({ type, sandbox });
  };
  const find = (ref: string): Sandbox | undefined =>
    sandboxes.get(ref) ?? [...sandboxes.values()].find((s) => s.id === ref);
  const notFound = (ref: string) =>
    wireError('ERR_SANDBOX_NOT_FOUND', `sandbox "${ref}" not found`);

  /** Adds a Ready sandbox directly (test set-up). */
  const seed = (name: string, labels: Record<string, string> = {}): Sandbox => {
    const id = `sb-${nextId++}`;
    const sandbox: Sandbox = {
      id,
      name,
      labels,
      createdAtMs: T0 + nextId * 60_000,
      updatedAtMs: T0,
      phase: SandboxPhase.SANDBOX_PHASE_READY,
      currentPolicyVersion: 1,
      spec: { providers: [], env: {}, command: [], tty: false, deleteOnExit: false },
    };
    sandboxes.set(name, sandbox);
    files.set(name, new Map());
    return sandbox;
  };

  const runScript = (
    call: ServerDuplexStream<ExecRequest, ExecResponse>,
    start: ExecStart,
  ): void => {
    const out = (s: string) => call.write({ payload: { $case: 'stdout', value: Buffer.from(s) } });
    const finish = (exit: { code?: number; signal?: string; timedOut?: boolean }) => {
      call.write({ payload: { $case: 'exit', value: { timedOut: false, ...exit } } });
      call.end();
    };
    const [cmd, ...rest] = start.argv;
    call.write({ payload: { $case: 'started', value: { pid: 42 } } });
    switch (cmd) {
      case 'echo':
        out(`${rest.join(' ')}\n`);
        return finish({ code: 0 });
      case 'stderr':
        call.write({ payload: { $case: 'stderr', value: Buffer.from(`${rest.join(' ')}\n`) } });
        return finish({ code: 0 });
      case 'exit':
        return finish({ code: Number(rest[0] ?? 0) });
      case 'kill':
        return finish({ signal: rest[0] ?? 'SIGKILL' });
      case 'env':
        out(
          `${JSON.stringify({ env: start.env, tty: start.tty, workdir: start.workdir ?? null })}\n`,
        );
        return finish({ code: 0 });
      case 'sleep':
        if (start.timeoutMs !== undefined) {
          setTimeout(() => finish({ signal: 'SIGKILL', timedOut: true }), start.timeoutMs);
        }
        return;
      case 'cat':
        // Echoes stdin until EOF, like cat(1).
        call.on('data', (msg: ExecRequest) => {
          if (msg.payload?.$case === 'stdin') out(msg.payload.value.toString());
          if (msg.payload?.$case === 'eof') finish({ code: 0 });
        });
        return;
      case undefined:
      default:
        out(`ran: ${start.argv.join(' ')}\n`);
        return finish({ code: 0 });
    }
  };

  const handlers: Pick<
    OpenShellServer,
    | 'createSandbox'
    | 'getSandbox'
    | 'listSandboxes'
    | 'deleteSandbox'
    | 'watchSandboxes'
    | 'exec'
    | 'connect'
    | 'upload'
    | 'download'
  > = {
    createSandbox(call, callback) {
      calls.push('createSandbox');
      const name = call.request.name ?? `brave-otter-${nextId}`;
      if (sandboxes.has(name)) {
        return callback(wireError('ERR_SANDBOX_EXISTS', `sandbox "${name}" already exists`), null);
      }
      const sandbox = seed(name, call.request.labels);
      Object.assign(sandbox, {
        phase: SandboxPhase.SANDBOX_PHASE_PROVISIONING,
        spec: call.request.spec,
        createdAtMs: Date.now(),
      });
      (sandbox as { request?: unknown }).request = call.request;
      callback(null, { sandbox: { ...sandbox } });
      setTimeout(() => {
        const reason = options.failing?.[name];
        sandbox.phase =
          reason === undefined
            ? SandboxPhase.SANDBOX_PHASE_READY
            : SandboxPhase.SANDBOX_PHASE_ERROR;
        if (reason !== undefined) sandbox.phaseReason = reason;
        broadcast(WatchEventType.WATCH_EVENT_TYPE_UPDATED, { ...sandbox });
      }, options.readyAfterMs ?? 30);
    },
    getSandbox(call, callback) {
      calls.push('getSandbox');
      const sandbox = find(call.request.sandbox);
      if (sandbox === undefined) return callback(notFound(call.request.sandbox), null);
      callback(null, { sandbox });
    },
    listSandboxes(call, callback) {
      calls.push('listSandboxes');
      const selector = Object.entries(call.request.labelSelector);
      const list = [...sandboxes.values()]
        .filter((s) => selector.every(([k, v]) => s.labels[k] === v))
        .sort((a, b) => a.createdAtMs - b.createdAtMs);
      callback(null, { sandboxes: list });
    },
    deleteSandbox(call, callback) {
      calls.push('deleteSandbox');
      const sandbox = find(call.request.sandbox);
      if (sandbox === undefined) return callback(notFound(call.request.sandbox), null);
      sandboxes.delete(sandbox.name);
      files.delete(sandbox.name);
      broadcast(WatchEventType.WATCH_EVENT_TYPE_DELETED, sandbox);
      callback(null, { sandbox });
    },
    watchSandboxes(call) {
      calls.push('watchSandboxes');
      if (call.request.includeInitial) {
        for (const s of sandboxes.values()) {
          call.write({ type: WatchEventType.WATCH_EVENT_TYPE_ADDED, sandbox: { ...s } });
        }
        call.write({ type: WatchEventType.WATCH_EVENT_TYPE_SYNCED });
      }
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
    },
    exec(call) {
      calls.push('exec');
      call.once('data', (msg: ExecRequest) => {
        if (msg.payload?.$case !== 'start') {
          call.emit('error', wireError('ERR_USAGE', 'first Exec message must be start'));
          return;
        }
        const start = msg.payload.value;
        execStarts.push(start);
        if (find(start.sandbox) === undefined) {
          call.emit('error', notFound(start.sandbox));
          return;
        }
        runScript(call, start);
      });
    },
    connect(call) {
      calls.push('connect');
      call.once(
        'data',
        (first: {
          payload?: { $case: string; value: { sandbox: string; sessionId?: string } };
        }) => {
          if (first.payload?.$case !== 'start') return;
          const start = first.payload.value;
          if (find(start.sandbox) === undefined) {
            call.emit('error', notFound(start.sandbox));
            return;
          }
          const sessionId = start.sessionId ?? 'sess-1';
          call.write({
            payload: {
              $case: 'started',
              value: { sessionId, reattached: start.sessionId !== undefined },
            },
          });
          call.on('data', (msg: { payload?: { $case: string; value: unknown } }) => {
            if (msg.payload?.$case === 'input') {
              const text = (msg.payload.value as Buffer).toString();
              call.write({ payload: { $case: 'output', value: Buffer.from(`echo:${text}`) } });
              if (text.includes('exit')) {
                call.write({ payload: { $case: 'exit', value: { code: 3, timedOut: false } } });
                call.end();
              }
            } else if (msg.payload?.$case === 'detach') {
              call.write({ payload: { $case: 'detached', value: { sessionId } } });
              call.end();
            }
          });
        },
      );
    },
    upload(call, callback) {
      calls.push('upload');
      let header: { sandbox: string; dest?: string } | undefined;
      let bytes = 0;
      let entries = 0;
      const extract = tar.extract();
      extract.on('entry', (h, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(c as Buffer));
        stream.on('end', () => {
          const fs = files.get(header?.sandbox ?? '');
          const path = posix.join(header?.dest ?? '/sandbox', h.name);
          const type =
            h.type === 'directory' ? 'directory' : h.type === 'symlink' ? 'symlink' : 'file';
          fs?.set(path, {
            type,
            ...(type === 'file' ? { content: Buffer.concat(chunks) } : {}),
            ...(type === 'symlink' ? { linkname: h.linkname ?? '' } : {}),
          });
          entries += 1;
          next();
        });
      });
      extract.on('finish', () => callback(null, { bytesReceived: bytes, entriesWritten: entries }));
      call.on(
        'data',
        (msg: {
          payload?:
            | { $case: 'header'; value: { sandbox: string; dest?: string } }
            | { $case: 'chunk'; value: Buffer };
        }) => {
          if (msg.payload?.$case === 'header') {
            header = msg.payload.value;
            if (find(header.sandbox) === undefined) callback(notFound(header.sandbox), null);
          } else if (msg.payload?.$case === 'chunk') {
            bytes += msg.payload.value.length;
            extract.write(msg.payload.value);
          }
        },
      );
      call.on('end', () => extract.end(() => undefined));
    },
    download(call) {
      calls.push('download');
      const { sandbox, path } = call.request;
      const raw = options.rawDownloads?.[path];
      if (find(sandbox) === undefined) {
        call.emit('error', notFound(sandbox));
        return;
      }
      if (raw !== undefined) {
        call.write({ chunk: raw });
        call.end();
        return;
      }
      const fs = files.get(sandbox) ?? new Map<string, FakeFile>();
      const parent = posix.dirname(path);
      const pack = tar.pack();
      for (const [p, f] of [...fs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        if (p !== path && !p.startsWith(`${path}/`)) continue;
        const name = posix.relative(parent, p);
        if (f.type === 'file')
          pack.entry({ name, type: 'file', mode: 0o644 }, f.content ?? Buffer.alloc(0));
        else if (f.type === 'directory') pack.entry({ name, type: 'directory', mode: 0o755 });
        else pack.entry({ name, type: 'symlink', linkname: f.linkname ?? '' });
      }
      pack.finalize();
      pack.on('data', (chunk: unknown) => call.write({ chunk: chunk as Buffer }));
      pack.on('end', () => call.end());
    },
  };
  return { handlers, sandboxes, files, execStarts, seed };
}
