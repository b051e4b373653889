import { describe, expect, test } from 'vitest';
import { errorCodes, parseValid, render, yaml } from '../test-helpers/policy-text.js';

function filesystem(readOnly: string, readWrite: string): string {
  return yaml`
    version: 1
    filesystem_policy:
      read_only: ${readOnly}
      read_write: ${readWrite}
  `;
}

describe('filesystem_policy paths', () => {
  test('a relative path is refused', () => {
    expect(render(filesystem('[/usr, lib]', '[/tmp]'))).toMatchInlineSnapshot(
      `"policy.yaml:3:21 filesystem_policy.read_only[1]: "lib" is not absolute — filesystem paths start with "/", e.g. "/lib""`,
    );
    expect(errorCodes(filesystem('[/usr, /lib]', '[/tmp]'))).toEqual([]);
  });

  test('a ".." segment is refused as traversal', () => {
    expect(render(filesystem('[/usr]', '[/sandbox/../etc]'))).toMatchInlineSnapshot(
      `"policy.yaml:4:16 filesystem_policy.read_write[0]: "/sandbox/../etc" contains a ".." segment (path traversal) — write the resolved path, e.g. "/etc""`,
    );
    expect(errorCodes(filesystem('[/usr]', '[/sandbox/..data]'))).toEqual([]);
  });

  test('read_write "/" is refused as too broad, read_only "/" is allowed', () => {
    expect(render(filesystem('[/usr]', '[/tmp, //]'))).toMatchInlineSnapshot(
      `"policy.yaml:4:22 filesystem_policy.read_write[1]: "//" in read_write is too broad: it makes the whole host filesystem writable — list the directories the agent writes, e.g. "/sandbox""`,
    );
    expect(errorCodes(filesystem('[/]', '[/tmp]'))).toEqual([]);
  });

  test('a path longer than 4096 characters is refused', () => {
    const long = `/${'a'.repeat(4096)}`;
    expect(render(filesystem(`[${long}]`, '[/tmp]'))).toMatchInlineSnapshot(
      `"policy.yaml:3:15 filesystem_policy.read_only[0]: path is 4097 characters long — at most 4096"`,
    );
    expect(errorCodes(filesystem(`[${long.slice(0, 4096)}]`, '[/tmp]'))).toEqual([]);
  });

  test('an empty path and a control character are refused', () => {
    expect(render(filesystem('["", "/usr\\u0000"]', '[/tmp]'))).toMatchInlineSnapshot(`
      "policy.yaml:3:15 filesystem_policy.read_only[0]: path is empty — write an absolute path such as "/sandbox"
      policy.yaml:3:19 filesystem_policy.read_only[1]: "/usr\\u0000" contains a control character — remove it"
    `);
  });

  test('more than 256 paths in total are refused', () => {
    const paths = (n: number, prefix: string): string =>
      `[${Array.from({ length: n }, (_, i) => `${prefix}/${i}`).join(', ')}]`;
    expect(render(filesystem(paths(200, '/ro'), paths(57, '/rw')))).toMatchInlineSnapshot(
      `"policy.yaml:2:1 filesystem_policy: filesystem_policy lists 257 paths — at most 256 (read_only and read_write together); list parent directories instead"`,
    );
    expect(errorCodes(filesystem(paths(200, '/ro'), paths(56, '/rw')))).toEqual([]);
  });

  test.for([
    ['~/data', 'ERR_POLICY_PATH_NOT_ABSOLUTE'],
    ['./data', 'ERR_POLICY_PATH_NOT_ABSOLUTE'],
    ['/a/../../etc', 'ERR_POLICY_PATH_TRAVERSAL'],
    ['/..', 'ERR_POLICY_PATH_TRAVERSAL'],
    ['/', 'ERR_POLICY_PATH_TOO_BROAD'],
    ['/./', 'ERR_POLICY_PATH_TOO_BROAD'],
    ['/data/', undefined],
    ['/da..ta', undefined],
  ] as const)('read_write %j → %s', ([path, code]) => {
    expect(errorCodes(filesystem('[]', JSON.stringify([path])))).toEqual(
      code === undefined ? [] : [code],
    );
  });

  test('paths are normalised: repeated, "." and trailing slashes removed', () => {
    const policy = parseValid(filesystem('[/usr//lib/, /./opt]', '[/tmp/]'));
    expect(policy.filesystem_policy.read_only).toEqual(['/usr/lib', '/opt']);
    expect(policy.filesystem_policy.read_write).toEqual(['/tmp', '/sandbox']);
  });
});
