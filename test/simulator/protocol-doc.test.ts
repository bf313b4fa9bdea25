import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOPICS, type TopicKind } from '../../devices/index.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * docs/protocol.md is what firmware is written from: every example in it must be what the platform
 * accepts and sends. This walks the examples of section 6 and the worked session of section 10
 * against the schemas, then replays the session's device side against a running platform.
 */
const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');
const SECTIONS: Record<string, TopicKind> = {
  '6.1 state': 'state',
  '6.2 heartbeat': 'heartbeat',
  '6.3 cmd (platform → device)': 'cmd',
  '6.4 ack': 'ack',
  '6.5 event': 'event',
};

/** The JSON examples under each message section, with the topic kind they illustrate. */
function sectionExamples(): { kind: TopicKind; json: unknown }[] {
  const examples: { kind: TopicKind; json: unknown }[] = [];
  let kind: TopicKind | null = null;
  let block: string[] | null = null;
  for (const line of DOC.split('\n')) {
    if (line.startsWith('### ') || line.startsWith('## ')) kind = SECTIONS[line.replace(/^#+ /, '')] ?? null;
    if (line.startsWith('```json')) block = [];
    else if (line.startsWith('```') && block) {
      if (kind) examples.push({ kind, json: JSON.parse(block.join('\n')) });
      block = null;
    } else if (block) block.push(line);
  }
  return examples;
}

/** The worked session's PUBLISH lines: topic kind, flags and payload. */
function sessionPublishes(): { kind: TopicKind; retain: boolean; qos: number; payload: string }[] {
  const session = DOC.slice(DOC.indexOf('## 10. Worked session'), DOC.indexOf('## 11.'));
  const lines = session.split('\n');
  const out: { kind: TopicKind; retain: boolean; qos: number; payload: string }[] = [];
  lines.forEach((line, i) => {
    const match = /PUBLISH\s+sc\/v1\/hd-c01\/(\w+) qos=(\d)( retain=1)?/.exec(line);
    if (match) {
      out.push({
        kind: match[1] as TopicKind,
        qos: Number(match[2]),
        retain: Boolean(match[3]),
        payload: (lines[i + 1] ?? '').trim(),
      });
    }
  });
  return out;
}

describe('docs/protocol.md', () => {
  it('has examples for every message section, and each is valid for its topic', () => {
    const examples = sectionExamples();
    const kinds = new Set(examples.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['ack', 'cmd', 'event', 'heartbeat', 'state']);
    for (const { kind, json } of examples) {
      const parsed = TOPICS[kind].schema.safeParse(json);
      expect(parsed.success, `${kind}: ${JSON.stringify(json)}\n${parsed.error?.message}`).toBe(true);
    }
  });

  it('shows a worked session whose every message is valid, with the documented flags', () => {
    const publishes = sessionPublishes();
    expect(publishes.length).toBeGreaterThanOrEqual(10);
    for (const p of publishes) {
      const parsed = TOPICS[p.kind].schema.safeParse(JSON.parse(p.payload));
      expect(parsed.success, `${p.kind}: ${p.payload}`).toBe(true);
      expect(p.retain, p.kind).toBe(TOPICS[p.kind].retain);
      expect(p.qos, p.kind).toBe(TOPICS[p.kind].qos);
    }
  });

  it('is held to what it says a device must send: each output once, a reason for a refusal, the play an event is about', () => {
    const heartbeat = JSON.parse(sessionPublishes().find((p) => p.kind === 'heartbeat')?.payload ?? '{}');
    const twice = {
      ...heartbeat,
      speakers: [
        { idx: 1, ok: true },
        { idx: 1, ok: true },
      ],
    };
    const unordered = {
      ...heartbeat,
      speakers: [
        { idx: 2, ok: true },
        { idx: 1, ok: true },
      ],
    };
    expect(TOPICS.heartbeat.schema.safeParse(twice).success).toBe(false);
    expect(TOPICS.heartbeat.schema.safeParse(unordered).success).toBe(false);
    expect(
      TOPICS.ack.schema.safeParse({ cmdId: 'q7ZcN1vR0xKpT3mA', status: 'rejected', ts: 1795000041060 })
        .success,
    ).toBe(false);
    expect(
      TOPICS.ack.schema.safeParse({
        cmdId: 'q7ZcN1vR0xKpT3mA',
        status: 'rejected',
        error: 'expired',
        ts: 1795000041060,
      }).success,
    ).toBe(true);
    expect(TOPICS.event.schema.safeParse({ type: 'playback-started', ts: 1795000041060 }).success).toBe(
      false,
    );
    expect(TOPICS.event.schema.safeParse({ type: 'boot', ts: 1795000041060 }).success).toBe(true);
  });

  describe('replayed against the platform', () => {
    let t: TestPlatform;
    beforeAll(async () => {
      t = await startTestPlatform();
    });
    afterAll(() => t.close());

    it("accepts the worked session's device side without a single rejection, and refuses what it says is refused", async () => {
      const secret = await t.addDevice('hd-c01');
      const device = await t.connectDevice('hd-c01', secret, {
        clean: true,
        keepalive: 60,
        will: {
          topic: 'sc/v1/hd-c01/state',
          payload: Buffer.from('{"online":false,"ts":1795000000000}'),
          qos: 1,
          retain: true,
        },
      });
      const granted = await device.subscribeAsync('sc/v1/hd-c01/cmd', { qos: 1 });
      expect(granted.map((g) => g.qos)).toEqual([1]);
      const fromDevice = sessionPublishes().filter((p) => TOPICS[p.kind].from === 'device');
      for (const p of fromDevice) {
        await device.publishAsync(`sc/v1/hd-c01/${p.kind}`, p.payload, {
          qos: p.qos as 0 | 1,
          retain: p.retain,
        });
      }
      await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(false)); // its clean shutdown
      expect(t.platform.ingress.rejections('hd-c01')).toEqual({});
      await device.endAsync();

      // Section 5: a retained heartbeat is not kept for later subscribers.
      const again = await t.connectDevice('hd-c01', secret);
      const heartbeat = sessionPublishes().find((p) => p.kind === 'heartbeat')?.payload as string;
      await again.publishAsync('sc/v1/hd-c01/heartbeat', heartbeat, { qos: 1, retain: true });
      const observer = await t.connect({ ...t.platform.internalMqttCredential });
      const retained: string[] = [];
      observer.on('message', (topic) => retained.push(topic));
      await observer.subscribeAsync('sc/v1/hd-c01/heartbeat', { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(retained).toEqual([]);
      await again.endAsync();

      // Section 2: a client id that differs from the username is refused with code 2.
      await expect(
        mqtt.connectAsync(t.mqttUrl, {
          clientId: 'hd-c99',
          username: 'hd-c01',
          password: secret,
          reconnectPeriod: 0,
        }),
      ).rejects.toMatchObject({ code: 2 });
    });
  });
});
