import {
  Server,
  ServerCredentials,
  credentials,
  status,
  type ServerDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ExecStart,
  OpenShellClient,
  OpenShellService,
  ProxyControlService,
  ServingStatus,
  SupervisorService,
  type ExecRequest,
  type ExecResponse,
  type HealthResponse,
  type OpenShellServer,
} from '../src/index.js';

const VERSION = '0.1.0-test';

/** Echoes stdin as stdout and reports controls on stderr, so the test sees every frame kind. */
function handleExec(call: ServerDuplexStream<ExecRequest, ExecResponse>): void {
  call.on('data', function onExecRequest(request: ExecRequest) {
    const payload = request.payload;
    if (payload === undefined) return;
    switch (payload.$case) {
      case 'start':
        call.write({ payload: { $case: 'started', value: { pid: 4242 } } });
        call.write({
          payload: {
            $case: 'stderr',
            value: Buffer.from(`start ${payload.value.sandbox} ${payload.value.argv.join(' ')}`),
          },
        });
        break;
      case 'stdin':
        call.write({ payload: { $case: 'stdout', value: payload.value } });
        break;
      case 'resize':
        call.write({
          payload: {
            $case: 'stderr',
            value: Buffer.from(`resize ${payload.value.rows}x${payload.value.cols}`),
          },
        });
        break;
      case 'signal':
        call.write({ payload: { $case: 'stderr', value: Buffer.from(`signal ${payload.value}`) } });
        break;
      case 'eof':
        call.write({ payload: { $case: 'exit', value: { code: 7, timedOut: false } } });
        call.end();
        break;
    }
  });
}

const implementation: Pick<OpenShellServer, 'health' | 'exec'> = {
  health: function handleHealth(_call, callback) {
    callback(null, { status: ServingStatus.SERVING_STATUS_SERVING, version: VERSION });
  },
  exec: handleExec,
};

let server: Server;
let client: OpenShellClient;

beforeAll(async () => {
  server = new Server();
  server.addService(OpenShellService, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error) reject(error);
      else resolve(boundPort);
    });
  });
  client = new OpenShellClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('generated OpenShell service over a real grpc-js server', () => {
  test('a unary call returns the server response', async () => {
    const response = await new Promise<HealthResponse>((resolve, reject) => {
      client.health({}, (error, value) => (error ? reject(error) : resolve(value)));
    });
    expect(response).toEqual({ status: ServingStatus.SERVING_STATUS_SERVING, version: VERSION });
  });

  test('a method the server does not implement fails with UNIMPLEMENTED', async () => {
    const error = await new Promise<ServiceError | null>((resolve) => {
      client.getStatus({}, (callError) => resolve(callError));
    });
    expect(error?.code).toBe(status.UNIMPLEMENTED);
  });

  test('Exec carries start, stdin, resize, signal and eof, and streams back to the exit', async () => {
    const call = client.exec();
    const responses: ExecResponse[] = [];
    call.on('data', (response: ExecResponse) => responses.push(response));
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });

    call.write({
      payload: {
        $case: 'start',
        value: ExecStart.fromPartial({ sandbox: 'demo', argv: ['cat', '-'] }),
      },
    });
    call.write({ payload: { $case: 'stdin', value: Buffer.from('hello\n') } });
    call.write({ payload: { $case: 'resize', value: { rows: 40, cols: 120 } } });
    call.write({ payload: { $case: 'signal', value: 'SIGINT' } });
    call.write({ payload: { $case: 'eof', value: {} } });
    call.end();
    await ended;

    const frames = responses.map((response) => {
      const payload = response.payload;
      if (payload === undefined) return ['none'];
      switch (payload.$case) {
        case 'stdout':
        case 'stderr':
          return [payload.$case, payload.value.toString('utf8')];
        case 'started':
          return [payload.$case, payload.value.pid];
        case 'exit':
          return [payload.$case, payload.value.code, payload.value.signal, payload.value.timedOut];
      }
    });
    expect(frames).toEqual([
      ['started', 4242],
      ['stderr', 'start demo cat -'],
      ['stdout', 'hello\n'],
      ['stderr', 'resize 40x120'],
      ['stderr', 'signal SIGINT'],
      ['exit', 7, undefined, false],
    ]);
  });
});

describe('service definitions name the wire paths and stream kinds the design fixes', () => {
  test.for([
    {
      method: OpenShellService.health,
      path: '/openshell.v1.OpenShell/Health',
      client: false,
      server: false,
    },
    {
      method: OpenShellService.exec,
      path: '/openshell.v1.OpenShell/Exec',
      client: true,
      server: true,
    },
    {
      method: OpenShellService.connect,
      path: '/openshell.v1.OpenShell/Connect',
      client: true,
      server: true,
    },
    {
      method: OpenShellService.upload,
      path: '/openshell.v1.OpenShell/Upload',
      client: true,
      server: false,
    },
    {
      method: OpenShellService.download,
      path: '/openshell.v1.OpenShell/Download',
      client: false,
      server: true,
    },
    {
      method: OpenShellService.watchSandboxes,
      path: '/openshell.v1.OpenShell/WatchSandboxes',
      client: false,
      server: true,
    },
    {
      method: OpenShellService.followLogs,
      path: '/openshell.v1.OpenShell/FollowLogs',
      client: false,
      server: true,
    },
    {
      method: OpenShellService.setPolicy,
      path: '/openshell.v1.OpenShell/SetPolicy',
      client: false,
      server: false,
    },
    {
      method: SupervisorService.session,
      path: '/openshell.v1.Supervisor/Session',
      client: true,
      server: true,
    },
    {
      method: ProxyControlService.control,
      path: '/openshell.v1.ProxyControl/Control',
      client: true,
      server: true,
    },
  ])('$path', ({ method, path, client: clientStream, server: serverStream }) => {
    expect(method).toMatchObject({
      path,
      requestStream: clientStream,
      responseStream: serverStream,
    });
  });
});
