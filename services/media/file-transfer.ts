import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, InvalidRequestError, PayloadTooLargeError } from '../errors.js';
import { storageFailure } from '../storage/storage-errors.js';
import { parseByteRange } from './byte-range.js';

/*
 * Files in and out over HTTP, as the audio library and the firmware images both move them:
 * multipart uploads streamed to a temporary file while hashed and counted, and downloads with one
 * byte range and the SHA-256 as ETag.
 */

const TEMP_PREFIX = '.upload-';
const TEMP_SUFFIX = '.part';

/** Where an upload is written until it is kept: `{dir}/.upload-{token}.part`. */
export function uploadTempPath(dir: string, token: string): string {
  return join(dir, `${TEMP_PREFIX}${token}${TEMP_SUFFIX}`);
}

/** Removes the uploads a crash left half-written in `dir`; returns how many there were. */
export async function removeUnfinishedUploads(dir: string): Promise<number> {
  const stale = (await readdir(dir)).filter(
    (name) => name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX),
  );
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale.length;
}

/**
 * Writes the stream to a new file at `path`, hashing and counting as it goes; past `maxBytes` it
 * stops with PayloadTooLargeError. On any failure the partial file is removed.
 */
export async function receiveFile(
  stream: NodeJS.ReadableStream | Readable,
  path: string,
  maxBytes: number,
): Promise<{ sizeBytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) {
        callback(new PayloadTooLargeError(maxBytes));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(path, { flags: 'wx', mode: 0o640 }));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { sizeBytes, sha256: hash.digest('hex') };
}

export interface UploadLimits {
  maxBytes: number;
  /** The text fields an upload may carry besides `file`, as named in the refusal. */
  fieldNames: readonly string[];
  /** busboy's limits on text fields and on all parts. */
  fields: number;
  parts: number;
  /**
   * Whether the parser's other client errors (a `__proto__` field, a JSON field that is not JSON)
   * keep their own status and code, rather than reading as a malformed body.
   */
  keepParserStatus?: boolean;
}

/**
 * Registers @fastify/multipart for uploads of one file in the field `file`, and returns how an
 * error from its parser reads as the client error it is.
 */
export async function acceptUploads(
  app: FastifyInstance,
  limits: UploadLimits,
): Promise<(error: unknown) => unknown> {
  const { maxBytes } = limits;
  // The upload counts bytes and refuses past maxBytes itself; busboy's own limit sits one byte
  // higher, because at its limit it silently truncates the file and only reports the overflow on
  // the next part, after a truncated file could already have been stored.
  await app.register(multipart, {
    limits: { fileSize: maxBytes + 1, files: 1, fields: limits.fields, fieldSize: 1024, parts: limits.parts },
  });
  const { FilesLimitError, PartsLimitError, FieldsLimitError, RequestFileTooLargeError } =
    app.multipartErrors;
  const names = ['file', ...limits.fieldNames].map((name) => `"${name}"`);
  const allowed = `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return (error) => {
    if (error instanceof DomainError) return error;
    // The disk refused the file (full, read-only): the platform's failure, not the client's body.
    if (storageFailure(error)) return error;
    if (error instanceof RequestFileTooLargeError) return new PayloadTooLargeError(maxBytes);
    if (error instanceof FilesLimitError) return new InvalidRequestError('send one file per upload');
    if (error instanceof PartsLimitError || error instanceof FieldsLimitError) {
      return new InvalidRequestError(`send only the fields ${allowed}`);
    }
    if (limits.keepParserStatus) {
      const status =
        typeof error === 'object' && error !== null && 'statusCode' in error ? error.statusCode : null;
      if (typeof status === 'number' && status >= 400 && status < 500) return error;
    }
    // busboy reports a malformed body (no boundary, broken part headers, early end) as a plain Error.
    const message = error instanceof Error ? error.message : String(error);
    return new InvalidRequestError(`malformed multipart body: ${message}`);
  };
}

/**
 * The `onResponse` hook of a download route. A client has the whole file as soon as it holds
 * Content-Length bytes, but the server ends the response only after one more read finds the end of
 * the file. A download ending in that gap while the platform stops missed Node's one sweep of idle
 * connections at close, and would then hold the stop for the whole keep-alive timeout; ending such
 * connections lets the stop finish.
 */
export function endDownloadsOnClose(app: FastifyInstance): (request: FastifyRequest) => Promise<void> {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  return async (request) => {
    if (closing) request.raw.socket.end();
  };
}

export interface DownloadedFile {
  path: string;
  /** The file's SHA-256 in hex: its ETag. */
  sha256: string;
  contentType: string;
  /** The Content-Disposition header: `inline` or `attachment`, with a file name. */
  disposition: string;
  /** What the file is called in a 416 answer ("the file has n bytes"). */
  noun: string;
  /** The error when the file is gone from the disk. */
  missing: () => Error;
  /** Answers 304 when If-None-Match names this ETag. */
  notModified?: boolean;
}

/** Sends a file, or the one byte range asked for [RFC 9110 §14], with its SHA-256 as ETag. */
export async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: DownloadedFile,
): Promise<FastifyReply> {
  const { path } = file;
  const size = await stat(path).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw file.missing();
      throw error;
    },
  );
  const etag = `"${file.sha256}"`;
  reply
    .header('accept-ranges', 'bytes')
    .header('etag', etag)
    .header('cache-control', 'private')
    .header('content-disposition', file.disposition);
  if (file.notModified && request.headers['if-none-match'] === etag) return reply.status(304).send(null);
  // If-Range [RFC 9110 §13.1.5]: resume only when the file is the one the client started.
  const ifRange = request.headers['if-range'];
  const range = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const answer = parseByteRange(range, size);
  if (answer.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    return reply.status(416).send({
      error: {
        code: 'range_not_satisfiable',
        message: `the ${file.noun} has ${size} bytes`,
        details: { size },
      },
    });
  }
  reply.header('content-type', file.contentType);
  if (answer.kind === 'partial') {
    reply
      .status(206)
      .header('content-range', `bytes ${answer.start}-${answer.end}/${size}`)
      .header('content-length', answer.end - answer.start + 1);
    return reply.send(createReadStream(path, { start: answer.start, end: answer.end }));
  }
  reply.header('content-length', size);
  return reply.send(createReadStream(path));
}
