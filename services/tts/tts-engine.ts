import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dialect } from './normalize-vi.js';

/** Synthesized speech: a WAV file's bytes. */
export interface Speech {
  wav: Buffer;
  durationS: number;
}

/**
 * A speech synthesizer behind one interface, chosen by TTS_ENGINE: eSpeak NG in WebAssembly by
 * default (nothing to install), or any program that reads text and writes a WAV (a Piper neural
 * voice, Debian's espeak-ng, a script calling a cloud service the province pays for).
 */
export interface TtsEngine {
  /** Names the engine and its settings: speech is synthesized again when this changes. */
  readonly id: string;
  synthesize(text: string, dialect: Dialect): Promise<Speech>;
  close(): Promise<void>;
}

/** What espeak-worker.mjs answers: the PCM of one synthesis, or why it failed. */
interface WorkerReply {
  sampleRate?: number;
  pcm?: string;
  error?: string;
}

/** eSpeak NG's three Vietnamese voices. */
const ESPEAK_VOICES: Record<Dialect, string> = {
  northern: 'vi',
  central: 'vi-vn-x-central',
  southern: 'vi-vn-x-south',
};

/** eSpeak NG compiled to WebAssembly (npm), in a child process of its own (espeak-worker.mjs). */
export class EspeakEngine implements TtsEngine {
  readonly id = 'espeak-ng';
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private next = 1;
  private readonly waiting = new Map<number, (reply: WorkerReply) => void>();

  async synthesize(text: string, dialect: Dialect): Promise<Speech> {
    const child = await this.start();
    const id = this.next++;
    const reply = await new Promise<WorkerReply>((resolve) => {
      this.waiting.set(id, resolve);
      child.send({ id, text, voice: ESPEAK_VOICES[dialect] });
    });
    if (reply.error || !reply.pcm || !reply.sampleRate)
      throw new Error(`speech synthesis failed: ${reply.error}`);
    const pcm = Buffer.from(reply.pcm, 'base64');
    return { wav: wavOf(pcm, reply.sampleRate), durationS: pcm.length / 2 / reply.sampleRate };
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.ready = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }

  private start(): Promise<ChildProcess> {
    if (this.child && this.ready) return this.ready.then(() => this.child as ChildProcess);
    const child = fork(workerPath(), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.on('message', (message: WorkerReply & { ready?: boolean; id?: number }) => {
        if (message.ready) return resolve();
        const waiter = message.id === undefined ? undefined : this.waiting.get(message.id);
        if (message.id !== undefined) this.waiting.delete(message.id);
        waiter?.(message);
      });
      child.once('exit', () => {
        this.child = null;
        this.ready = null;
        for (const waiter of this.waiting.values()) waiter({ error: 'the synthesizer stopped' });
        this.waiting.clear();
      });
    });
    return this.ready.then(() => child);
  }
}

/**
 * A program that speaks: `command` is run with `{voice}` and `{out}` replaced in its arguments,
 * the text on its standard input, and must write a WAV file to `{out}` (docs: how to add a voice).
 */
export class CommandEngine implements TtsEngine {
  readonly id: string;

  constructor(private readonly command: string[]) {
    this.id = `command ${command.join(' ')}`;
  }

  async synthesize(text: string, dialect: Dialect): Promise<Speech> {
    const dir = await mkdtemp(join(tmpdir(), 'sc-tts-'));
    const out = join(dir, 'speech.wav');
    try {
      const [program, ...args] = this.command.map((part) =>
        part
          .replaceAll('{voice}', ESPEAK_VOICES[dialect])
          .replaceAll('{dialect}', dialect)
          .replaceAll('{out}', out),
      );
      await new Promise<void>((resolve, reject) => {
        const child = spawn(program as string, args, { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < 2000) stderr += chunk.toString();
        });
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0
            ? resolve()
            : reject(new Error(`${program} exited ${code}: ${stderr.trim().slice(0, 300)}`)),
        );
        child.stdin.end(text);
      });
      const wav = await readFile(out);
      return { wav, durationS: wavDuration(wav) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {}
}

function workerPath(): string {
  const beside = join(dirname(fileURLToPath(import.meta.url)), 'espeak-worker.mjs');
  if (existsSync(beside)) return beside;
  // Compiled to dist/services/tts/: the worker is plain JavaScript and stays in the source tree.
  return join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    '..',
    '..',
    'services',
    'tts',
    'espeak-worker.mjs',
  );
}

/** A mono 16-bit PCM WAV. */
function wavOf(pcm: Buffer, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/** The playing time of a PCM WAV from its header (byte rate and data size). */
function wavDuration(wav: Buffer): number {
  const byteRate = wav.readUInt32LE(28);
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'data') return Math.min(size, wav.length - offset - 8) / byteRate;
    offset += 8 + size + (size % 2);
  }
  throw new Error('the synthesizer wrote no WAV audio');
}
