import { describe, expect, it } from 'vitest';
import { COMMAND_MEMORY_SIZE, CommandMemory } from '../../simulators/speaker-cluster/command-memory.js';

describe('command memory', () => {
  it('remembers the last 512 ids and forgets the oldest beyond that', () => {
    const memory = new CommandMemory();
    for (let i = 0; i <= COMMAND_MEMORY_SIZE; i++) memory.record(`cmd-${i}`, { status: 'done' });
    expect(memory.size).toBe(COMMAND_MEMORY_SIZE);
    expect(memory.get('cmd-0')).toBeUndefined();
    expect(memory.get('cmd-1')).toEqual({ status: 'done' });
    expect(memory.get(`cmd-${COMMAND_MEMORY_SIZE}`)).toEqual({ status: 'done' });
  });

  it('keeps the latest ack of an id without moving it up the eviction order', () => {
    const memory = new CommandMemory(2);
    memory.record('a', { status: 'accepted' });
    memory.record('b', { status: 'done' });
    memory.record('a', { status: 'failed', error: 'preempted' });
    expect(memory.get('a')).toEqual({ status: 'failed', error: 'preempted' });
    memory.record('c', { status: 'done' });
    expect(memory.get('a')).toBeUndefined();
    expect(memory.get('b')).toEqual({ status: 'done' });
  });
});
