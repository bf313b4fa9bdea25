import { MPEGDecoder } from 'mpg123-decoder';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  LiveAck,
  LiveClientToServerEvents,
  LiveEnded,
  LiveServerToClientEvents,
  LiveStart,
  LiveStarted,
} from '../../contracts/live.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

type LiveSocket = Socket<LiveServerToClientEvents, LiveClientToServerEvents>;

/** The operator's console on `/live`: a real socket.io-client over WebSocket with the session cookie. */
function liveSocket(httpUrl: string, headers: Record<string, string>): LiveSocket {
  return io(`${httpUrl}/live`, {
    path: '/socket.io',
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    extraHeaders: headers,
  });
}

function connect(socket: LiveSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
  });
}

function call<T>(emit: (ack: LiveAck<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    emit((result) =>
      result.ok
        ? resolve(result.value)
        : reject(Object.assign(new Error(result.error.message), result.error)),
    ),
  );
}

/** 100 ms chunks of a sine at `hz`, 16-bit little-endian mono, as the console sends them. */
function tone(hz: number, seconds: number, sampleRate: number): Buffer[] {
  const chunk = sampleRate / 10;
  const chunks: Buffer[] = [];
  for (let c = 0; c < seconds * 10; c++) {
    const pcm = Buffer.alloc(chunk * 2);
    for (let i = 0; i < chunk; i++)
      pcm.writeInt16LE(
        Math.round(12_000 * Math.sin((2 * Math.PI * hz * (c * chunk + i)) / sampleRate)),
        i * 2,
      );
    chunks.push(pcm);
  }
  return chunks;
}

/** A cluster's side: it reads the stream it was told to play and decodes every frame. */
class StreamListener {
  decodedSamples = 0;
  sampleRate = 0;
  ended = false;
  status = 0;
  /** Upward zero crossings (with a little hysteresis, so silence's noise does not count). */
  private crossings: number[] = [];
  private armed = false;

  async read(url: string): Promise<void> {
    const decoder = new MPEGDecoder();
    await decoder.ready;
    const response = await fetch(url);
    this.status = response.status;
    const reader = response.body?.getReader();
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      const { channelData, samplesDecoded, sampleRate } = decoder.decode(next.value);
      if (sampleRate) this.sampleRate = sampleRate;
      const samples = channelData[0] ?? new Float32Array(0);
      for (let i = 0; i < samples.length; i++) {
        const v = samples[i] as number;
        if (v < -0.02) this.armed = true;
        else if (v > 0.02 && this.armed) {
          this.armed = false;
          this.crossings.push(this.decodedSamples + i);
        }
      }
      this.decodedSamples += samplesDecoded;
    }
    decoder.free();
    this.ended = true;
  }

  get decodedS(): number {
    return this.sampleRate ? this.decodedSamples / this.sampleRate : 0;
  }

  /** How long the tone lasted: from its first to its last crossing. */
  get toneS(): number {
    const first = this.crossings[0];
    const last = this.crossings.at(-1);
    return first === undefined || last === undefined || !this.sampleRate
      ? 0
      : (last - first) / this.sampleRate;
  }

  /** The tone's frequency: cycles between the first and the last crossing. */
  get hz(): number {
    const first = this.crossings[0];
    const last = this.crossings.at(-1);
    if (first === undefined || last === undefined || last === first) return 0;
    return (this.crossings.length - 1) / ((last - first) / this.sampleRate);
  }
}

/** A cluster that, told to play a stream, starts reading it. */
async function listeningCluster(
  t: TestPlatform,
  id: string,
): Promise<{ client: MqttClient; listener: Promise<StreamListener> }> {
  const secret = await t.addDevice(id);
  const client = await t.connectDevice(id, secret);
  await client.subscribeAsync(`sc/v1/${id}/cmd`, { qos: 1 });
  const listener = new Promise<StreamListener>((resolve) => {
    client.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as {
        type: string;
        source?: { kind: string; url: string };
      };
      if (command.type !== 'play' || command.source?.kind !== 'stream') return;
      const reader = new StreamListener();
      void reader.read(command.source.url).then(() => resolve(reader));
    });
  });
  return { client, listener };
}

const START: LiveStart = {
  mode: 'broadcast',
  name: 'Thông báo trực tiếp',
  level: 'normal',
  targets: { clusterIds: ['hd-lt1', 'hd-lt2'], communeIds: [], villageIds: [], groupIds: [] },
  sampleRate: 16_000,
};

describe('live talk from the console', () => {
  let t: TestPlatform;
  let socket: LiveSocket | undefined;
  afterEach(async () => {
    socket?.disconnect();
    await t?.close();
  });

  it("plays the operator's voice on every target cluster as one MP3 stream, and keeps the recording", async () => {
    t = await startTestPlatform();
    const clusters = [await listeningCluster(t, 'hd-lt1'), await listeningCluster(t, 'hd-lt2')];
    socket = liveSocket(t.httpUrl, await t.headersFor('operator'));
    await connect(socket);
    const live = socket;
    const started = await call<LiveStarted>((ack) => live.emit('live.start', START, ack));
    expect(started.broadcastId).toMatch(/^b-/);
    expect(started.silenceLimitS).toBe(10);
    // Both clusters are reading before the operator says a word.
    await vi.waitFor(() => expect(t.platform.live.session(started.sessionId)?.listenerCount).toBe(2));
    for (const chunk of tone(440, 3, 16_000)) live.emit('live.audio', chunk);
    const ended = await call<LiveEnded>((ack) => live.emit('live.stop', ack));
    expect(ended).toMatchObject({ broadcastId: started.broadcastId, reason: 'stopped' });

    for (const { listener } of clusters) {
      const heard = await listener;
      expect(heard.status).toBe(200);
      expect(heard.ended).toBe(true);
      // The 3 s of voice, once: silence the platform fills in while the voice is late (a loaded
      // machine) may come before it, so the tone is measured, not the whole stream.
      expect(heard.decodedS).toBeGreaterThan(2.8);
      expect(heard.toneS).toBeGreaterThan(2.8);
      expect(heard.toneS).toBeLessThan(3.2);
      expect(heard.hz).toBeGreaterThan(420);
      expect(heard.hz).toBeLessThan(460);
    }

    const log = await t.api(`/api/v1/broadcasts/${started.broadcastId}`, { as: 'operator' });
    const body = log.body as {
      kind: string;
      recordingMediaId: string;
      deliveries: { state: string; reason: string }[];
    };
    expect(body.kind).toBe('talk');
    expect(body.recordingMediaId).toBe(ended.recordingMediaId);
    expect(body.deliveries.map((d) => [d.state, d.reason])).toEqual([
      ['stopped', 'the operator ended the live talk'],
      ['stopped', 'the operator ended the live talk'],
    ]);
    const recording = t.platform.media.get(ended.recordingMediaId as string);
    expect(recording.mime).toBe('audio/mpeg');
    expect(recording.durationS).toBeGreaterThan(2.8);
    expect(recording.durationS).toBeLessThan(3.4);
    // The recording is proof: it cannot be deleted while its broadcast is in the log.
    const removal = await t.api(`/api/v1/media/${recording.id}`, { method: 'DELETE', as: 'operator' });
    expect(removal.status).toBe(409);
    const audit = await t.api('/api/v1/audit?action=broadcast.talk.start', { as: 'admin' });
    expect((audit.body as { items: Json[] }).items).toHaveLength(1);
    for (const { client } of clusters) await client.endAsync();
  });

  it("ends the talk everywhere after the silence limit when the operator's connection drops", async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 2, 0, 0));
    t = await startTestPlatform({ clock, config: { LIVE_SILENCE_S: 4 } });
    const { client, listener } = await listeningCluster(t, 'hd-lt1');
    socket = liveSocket(t.httpUrl, await t.headersFor('operator'));
    await connect(socket);
    const live = socket;
    const started = await call<LiveStarted>((ack) =>
      live.emit('live.start', { ...START, targets: { ...START.targets, clusterIds: ['hd-lt1'] } }, ack),
    );
    await vi.waitFor(() => expect(t.platform.live.session(started.sessionId)?.listenerCount).toBe(1));
    for (const chunk of tone(1000, 1, 16_000)) live.emit('live.audio', chunk);
    await vi.waitFor(() =>
      expect(t.platform.live.session(started.sessionId)?.recordedSeconds).toBeGreaterThan(0.9),
    );
    live.disconnect();
    // The cluster hears silence while the platform waits for the operator to come back...
    clock.advance(3_000);
    expect(t.platform.live.session(started.sessionId)).not.toBeNull();
    // ...then the talk ends on it, with the reason in the log.
    clock.advance(1_200);
    const heard = await listener;
    expect(heard.ended).toBe(true);
    expect(heard.hz).toBeGreaterThan(950);
    expect(heard.hz).toBeLessThan(1050);
    // The second of speech and about three of filled silence.
    expect(heard.decodedS).toBeGreaterThan(3.5);
    const log = await t.api(`/api/v1/broadcasts/${started.broadcastId}`, { as: 'operator' });
    const body = log.body as {
      status: string;
      recordingMediaId: string | null;
      deliveries: { state: string; reason: string }[];
    };
    expect(body.status).toBe('stopped');
    expect(body.deliveries[0]).toMatchObject({
      state: 'stopped',
      reason: "the operator's connection was lost; the talk ended after the silence limit",
    });
    await vi.waitFor(async () => {
      const again = await t.api(`/api/v1/broadcasts/${started.broadcastId}`, { as: 'operator' });
      expect((again.body as { recordingMediaId: string | null }).recordingMediaId).toMatch(/^m-/);
    });
    await client.endAsync();
  });

  it('lets only operators talk, names a bad field, keeps a commune operator in their commune, and guards the stream', async () => {
    t = await startTestPlatform();
    await t.addDevice('hd-lt1');
    const police = liveSocket(t.httpUrl, await t.headersFor('police'));
    await expect(connect(police)).rejects.toThrow('forbidden');
    police.disconnect();
    const anonymous = liveSocket(t.httpUrl, {});
    await expect(connect(anonymous)).rejects.toThrow('unauthenticated');
    anonymous.disconnect();

    socket = liveSocket(t.httpUrl, await t.headersFor('operator'));
    await connect(socket);
    const live = socket;
    await expect(
      call((ack) => live.emit('live.start', { ...START, sampleRate: 12_345 } as unknown as LiveStart, ack)),
    ).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/^start\.sampleRate/),
    });

    await t.platform.registry.createCommune({ id: 'other', name: 'Xã Khác' });
    const outsider = liveSocket(t.httpUrl, await t.headersFor('operator', { communeId: 'other' }));
    await connect(outsider);
    await expect(
      call((ack) =>
        outsider.emit('live.start', { ...START, targets: { ...START.targets, clusterIds: ['hd-lt1'] } }, ack),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    outsider.disconnect();

    const started = await call<LiveStarted>((ack) =>
      live.emit('live.start', { ...START, targets: { ...START.targets, clusterIds: ['hd-lt1'] } }, ack),
    );
    const forged = await fetch(
      `${t.httpUrl}/api/v1/live/${started.sessionId}/stream.mp3?exp=${Date.now() + 60_000}&sig=AAAA`,
    );
    expect(forged.status).toBe(403);
    await call((ack) => live.emit('live.stop', ack));
  });
});
