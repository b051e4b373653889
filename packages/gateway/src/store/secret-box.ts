import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';

/**
 * Encryption at rest for provider credentials and inference route keys. A stolen copy of
 * the database (a backup, a world-readable snapshot) reveals no secret without the key
 * file, and the associated data binds each blob to its row so a writer who can edit the
 * database but not read the key cannot move a secret to a row that sends it elsewhere
 * (e.g. swap a credential into a provider with attacker-chosen allowed hosts).
 */

/** AES-256 needs exactly 32 key bytes. */
export const SECRET_KEY_BYTES = 32;
/** NIST SP 800-38D §8.2: 96-bit nonces; random per value is safe far below 2^32 encryptions. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** First byte of every blob, so a later format (new cipher, key rotation) can coexist. */
const BLOB_VERSION = 1;
const HEADER_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

export interface SecretBox {
  /** Encrypts `plaintext`; `context` names the row the blob belongs to (names only, never secrets). */
  seal(plaintext: string, context: string): Buffer;
  /** Decrypts a blob made by seal() with the same context; throws ERR_INTERNAL when it does not authenticate. */
  open(blob: Uint8Array, context: string): string;
}

/** A SecretBox over a 32-byte AES-256-GCM key. */
export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== SECRET_KEY_BYTES) {
    throw new OpenShellError(
      'ERR_INTERNAL',
      `secret key must be ${SECRET_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  const keyCopy = Buffer.from(key);
  return {
    seal: function sealSecret(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyCopy, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(BLOB_VERSION), nonce, cipher.getAuthTag(), ciphertext]);
    },
    open: function openSecret(blob, context) {
      const bytes = Buffer.from(blob);
      if (bytes.length < HEADER_BYTES || bytes[0] !== BLOB_VERSION) {
        throw undecryptable(context, 'it is truncated or has an unknown format version');
      }
      const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
      const tag = bytes.subarray(1 + NONCE_BYTES, HEADER_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', keyCopy, nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(context));
      decipher.setAuthTag(tag);
      try {
        const plain = Buffer.concat([
          decipher.update(bytes.subarray(HEADER_BYTES)),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch (cause) {
        // GCM's only failure here is "unable to authenticate data": the message carries
        // no plaintext, but keep the cause out of it anyway and only attach it.
        throw undecryptable(context, 'it failed authentication', cause);
      }
    },
  };
}

/**
 * Reads the 32-byte key at `path`, creating it (random, 0600, parent dir 0700) when missing.
 * Refuses a key that other users could read or that has the wrong size, since either means
 * the secrets are exposed or the file is not ours.
 */
export async function loadSecretKey(path: string): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const existing = await openExisting(path);
  if (existing !== undefined) return readKey(existing, path);
  try {
    return await createKey(path);
  } catch (error) {
    // Another gateway process created it between our two opens: use theirs.
    if (isErrno(error, 'EEXIST')) {
      const raced = await openExisting(path);
      if (raced !== undefined) return readKey(raced, path);
    }
    throw keyError(path, `cannot create the secret key file: ${errnoText(error)}`, error);
  }
}

/** Opens the key and its SecretBox in one step, as the store does at startup. */
export async function openSecretBox(keyPath: string): Promise<SecretBox> {
  const key = await loadSecretKey(keyPath);
  try {
    return createSecretBox(key);
  } finally {
    key.fill(0);
  }
}

function associatedData(context: string): Buffer {
  // The prefix separates this use of the key from any other the project may add later.
  return Buffer.from(`openshell-store-secret/v1\0${context}`, 'utf8');
}

function undecryptable(context: string, why: string, cause?: unknown): OpenShellError {
  return new OpenShellError(
    'ERR_INTERNAL',
    `cannot decrypt the stored secret for ${context}: ${why}. The database row was altered, ` +
      'moved from another row, or the secret key file was replaced; set the secret again ' +
      '(re-create the provider or route) or restore the original key file',
    { details: { context }, ...(cause === undefined ? {} : { cause }) },
  );
}

async function openExisting(path: string): Promise<FileHandle | undefined> {
  try {
    // O_NOFOLLOW: a symlink planted in the state dir must not redirect us to another file.
    return await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw keyError(path, `cannot open the secret key file: ${errnoText(error)}`, error);
  }
}

async function readKey(handle: FileHandle, path: string): Promise<Buffer> {
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw keyError(path, 'the secret key path is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) {
      throw keyError(
        path,
        `the secret key file is owned by uid ${stat.uid}, not by the gateway's uid ${uid}; ` +
          'chown it or remove it to generate a new key (stored secrets are then lost)',
      );
    }
    if ((stat.mode & 0o077) !== 0) {
      throw keyError(
        path,
        `the secret key file has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; ` +
          'other users may have read it. Run `chmod 600` on it (and rotate the secrets if it leaked)',
      );
    }
    if (stat.size !== SECRET_KEY_BYTES) {
      throw keyError(
        path,
        `the secret key file holds ${stat.size} bytes, expected ${SECRET_KEY_BYTES}; restore the ` +
          'original file, or remove it to generate a new key (stored secrets are then lost)',
      );
    }
    const key = Buffer.alloc(SECRET_KEY_BYTES);
    const { bytesRead } = await handle.read(key, 0, SECRET_KEY_BYTES, 0);
    if (bytesRead !== SECRET_KEY_BYTES) {
      throw keyError(path, `read only ${bytesRead} of ${SECRET_KEY_BYTES} secret key bytes`);
    }
    return key;
  } finally {
    await handle.close();
  }
}

async function createKey(path: string): Promise<Buffer> {
  const key = randomBytes(SECRET_KEY_BYTES);
  const handle = await open(
    path,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
    0o600,
  );
  try {
    // The create mode passes through the umask; chmod makes 0600 exact either way.
    await handle.chmod(0o600);
    await handle.write(key, 0, SECRET_KEY_BYTES, 0);
    // Losing the key loses every stored secret: make it durable before anything is sealed.
    await handle.sync();
  } finally {
    await handle.close();
  }
  return key;
}

function keyError(path: string, message: string, cause?: unknown): OpenShellError {
  return new OpenShellError('ERR_INTERNAL', `${message} (${path})`, {
    details: { path },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

function errnoText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
