// Stand-in for the gateway daemon (OPENSHELL_GATEWAY_BIN) in CLI tests: node cannot import
// TypeScript by itself, so tsx is registered before loading the real fake.
import { register } from 'tsx/esm/api';

register();
await import('./fake-daemon-main.ts');
