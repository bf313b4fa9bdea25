import { describe, expect, it } from 'vitest';
import { buildCommand } from '../../devices/index.js';
import { classifyCommand } from '../../simulators/speaker-cluster/command-intake.js';
import { CommandMemory } from '../../simulators/speaker-cluster/command-memory.js';

const now = Date.UTC(2026, 10, 22, 8, 0, 0);
const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('command intake', () => {
  it('drops payloads without a usable id', () => {
    const memory = new CommandMemory();
    expect(classifyCommand(bytes('{"id":'), memory, now)).toMatchObject({ action: 'drop' });
    expect(classifyCommand(bytes([{ id: 'abcdefgh' }]), memory, now)).toMatchObject({ action: 'drop' });
    expect(classifyCommand(bytes({ id: 'short', type: 'ping' }), memory, now)).toMatchObject({
      action: 'drop',
    });
  });

  it('answers a known id from memory before looking at anything else', () => {
    const memory = new CommandMemory();
    memory.record('seen-before-1', { status: 'rejected', error: 'expired' });
    expect(classifyCommand(bytes({ id: 'seen-before-1', type: 'nonsense' }), memory, now)).toEqual({
      action: 'repeat-ack',
      cmdId: 'seen-before-1',
      ack: { status: 'rejected', error: 'expired' },
    });
  });

  it('rejects unknown types, invalid fields and expired commands with their codes', () => {
    const memory = new CommandMemory();
    const base = { id: 'cmd-000001', issuedAt: now, expiresAt: now + 1000 };
    expect(classifyCommand(bytes({ ...base, type: 'dance' }), memory, now)).toMatchObject({
      action: 'reject',
      error: 'unsupported',
    });
    expect(classifyCommand(bytes({ ...base, type: 'volume', level: 101 }), memory, now)).toMatchObject({
      action: 'reject',
      error: 'invalid-command',
      detail: expect.stringContaining('level'),
    });
    expect(classifyCommand(bytes({ ...base, type: 'ping', extra: 1 }), memory, now)).toMatchObject({
      error: 'invalid-command',
    });
    expect(classifyCommand(bytes({ ...base, type: 'ping' }), memory, now + 1001)).toMatchObject({
      action: 'reject',
      error: 'expired',
    });
  });

  it('passes a valid command on with its defaults applied', () => {
    const play = buildCommand(
      'play',
      {
        broadcastId: 'bc-1',
        level: 'normal',
        source: { kind: 'media', url: 'http://media.local/a.mp3' },
        startAt: now,
        repeat: 1,
      },
      now,
    );
    const { repeat: _omitted, ...withoutRepeat } = play as typeof play & { repeat?: number };
    const intake = classifyCommand(bytes(withoutRepeat), new CommandMemory(), now);
    expect(intake).toMatchObject({ action: 'execute', command: { id: play.id, type: 'play', repeat: 1 } });
  });
});

describe('fresh attempts of a play (docs/protocol.md section 7)', () => {
  const play = (attempt?: number) => ({
    id: 'play-00000001',
    type: 'play',
    issuedAt: now,
    expiresAt: now + 60_000,
    broadcastId: 'b-1',
    level: 'emergency',
    source: { kind: 'media', url: 'http://127.0.0.1:3000/api/v1/media/m-1/content' },
    startAt: now,
    ...(attempt ? { attempt } : {}),
  });

  it('executes a higher attempt of a play whose download failed before its first sound', () => {
    const memory = new CommandMemory();
    memory.record('play-00000001', { status: 'accepted', attempt: 1 });
    memory.record('play-00000001', { status: 'failed', error: 'fetch-failed' });
    expect(classifyCommand(bytes(play(2)), memory, now)).toMatchObject({ action: 'execute' });
    // The same attempt again is a repeat.
    expect(classifyCommand(bytes(play()), memory, now)).toMatchObject({ action: 'repeat-ack' });
  });

  it('never plays again what was heard, whatever attempt asks for it', () => {
    const memory = new CommandMemory();
    memory.record('play-00000001', { status: 'accepted', attempt: 1 });
    memory.markStarted('play-00000001', 1_000);
    memory.record('play-00000001', { status: 'failed', error: 'fetch-failed' });
    expect(classifyCommand(bytes(play(5)), memory, now)).toMatchObject({ action: 'repeat-ack' });
    const done = new CommandMemory();
    done.record('play-00000001', { status: 'done' });
    expect(classifyCommand(bytes(play(2)), done, now)).toMatchObject({ action: 'repeat-ack' });
  });
});
