import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { MPEGDecoder } from 'mpg123-decoder';
import type { Clock, TimerHandle } from '../../devices/index.js';

/** What went wrong with a station: the relay switches to its fallback. */
export interface StationProblem {
  state: 'unreachable' | 'wrong-type' | 'silent';
  detail: string;
}

/** Audio a cluster can play, and HLS playlists (reached, not decoded here). */
const AUDIO_TYPE =
  /^(audio\/(mpeg|mp3|aac|aacp|x-aac|ogg|opus|mpegurl|x-mpegurl)|application\/(ogg|vnd\.apple\.mpegurl|x-mpegurl))\b/i;
const MPEG_TYPE = /^audio\/(mpeg|mp3)\b/i;
/** Quieter than this (RMS of a decoded second, about −50 dBFS) is dead air. */
const SILENCE_RMS = 0.003;
const MAX_REDIRECTS = 3;

/**
 * Where the platform may fetch a station from: anywhere but this machine (unless allowed, for a
 * station server on this PC), link-local addresses (cloud metadata), multicast and the
 * platform's own ports. Checked for every address a name resolves to, and again after a redirect.
 */
export class StationAddressPolicy {
  private readonly denied = new BlockList();

  constructor(private readonly options: { allowLoopback: boolean; deniedPorts: () => readonly number[] }) {
    if (!options.allowLoopback) {
      this.denied.addSubnet('127.0.0.0', 8, 'ipv4');
      this.denied.addAddress('::1', 'ipv6');
    }
    this.denied.addSubnet('0.0.0.0', 8, 'ipv4');
    this.denied.addSubnet('169.254.0.0', 16, 'ipv4');
    this.denied.addSubnet('224.0.0.0', 4, 'ipv4');
    this.denied.addSubnet('fe80::', 10, 'ipv6');
    this.denied.addSubnet('ff00::', 8, 'ipv6');
  }

  allowsIp(ip: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    if (mapped) return !this.denied.check(mapped, 'ipv4');
    const family = isIP(ip);
    return family !== 0 && !this.denied.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Why a URL may not be fetched, or null. */
  refusal(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not a URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'not http or https';
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    if (this.options.deniedPorts().includes(port)) return `port ${port} belongs to the platform`;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.allowsIp(host)) return `${host} may not be fetched`;
    return null;
  }

  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: false }, (error, address, family) => {
      if (!error && typeof address === 'string' && !this.allowsIp(address)) {
        callback(new Error(`${hostname} resolves to an address that may not be fetched`), address, family);
        return;
      }
      callback(error, address, family);
    });
  };
}

/** Opens a station's stream: redirects followed (each checked), the status and the type judged. */
export async function openStation(
  url: string,
  policy: StationAddressPolicy,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ response: IncomingMessage; type: string } | StationProblem> {
  let target = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const refusal = policy.refusal(target);
    if (refusal) return { state: 'unreachable', detail: `refused: ${refusal}` };
    let response: IncomingMessage;
    try {
      response = await get(target, policy, timeoutMs, signal);
    } catch (error) {
      return { state: 'unreachable', detail: (error as Error).message };
    }
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.destroy();
      target = new URL(response.headers.location, target).toString();
      continue;
    }
    if (status !== 200) {
      response.destroy();
      return { state: 'unreachable', detail: `HTTP ${status}` };
    }
    const type = String(response.headers['content-type'] ?? '');
    if (!AUDIO_TYPE.test(type)) {
      response.destroy();
      return { state: 'wrong-type', detail: `Content-Type ${type || '(none)'} is not audio` };
    }
    return { response, type };
  }
  return { state: 'unreachable', detail: `more than ${MAX_REDIRECTS} redirects` };
}

function get(url: string, policy: StationAddressPolicy, timeoutMs: number, signal: AbortSignal) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {
      lookup: policy.lookup,
      signal,
      headers: { 'user-agent': 'smart-commune station check', 'icy-metadata': '0' },
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('response', (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end();
  });
}

/**
 * Listens to a station for as long as a relay of it lasts and says once when it fails: it cannot
 * be reached (twice in a row, a second apart), it is not audio, or it is dead air — `deadAirS`
 * seconds of decoded silence in a row for MP3, or of no bytes at all for other types.
 */
export class StationListener {
  private readonly abort = new AbortController();
  private failed = false;
  private silentS = 0;
  private byteTimer: TimerHandle | null = null;

  constructor(
    private readonly options: {
      url: string;
      policy: StationAddressPolicy;
      deadAirS: number;
      timeoutMs: number;
      clock: Clock;
      onProblem(problem: StationProblem): void;
      /** Told once audio is flowing (the station is healthy). */
      onAudio(): void;
    },
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.failed = true;
    this.abort.abort();
    this.clearByteTimer();
  }

  private async run(): Promise<void> {
    let attempts = 0;
    while (!this.failed) {
      const opened = await openStation(
        this.options.url,
        this.options.policy,
        this.options.timeoutMs,
        this.abort.signal,
      );
      if (this.failed) return;
      if ('state' in opened) {
        if (opened.state !== 'unreachable' || ++attempts >= 2) return this.fail(opened);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      attempts = 0;
      const ended = await this.read(opened.response, MPEG_TYPE.test(opened.type));
      if (this.failed) return;
      // The station closed the stream or the connection broke: try it again once.
      if (++attempts >= 2) return this.fail({ state: 'unreachable', detail: ended });
    }
  }

  private async read(response: IncomingMessage, mpeg: boolean): Promise<string> {
    const decoder = mpeg ? new MPEGDecoder() : null;
    await decoder?.ready;
    let announced = false;
    this.armByteTimer();
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (this.failed) break;
        this.armByteTimer();
        if (!decoder) {
          if (!announced) this.options.onAudio();
          announced = true;
          continue;
        }
        const { channelData, sampleRate } = decoder.decode(chunk);
        const samples = channelData[0];
        if (!samples || samples.length === 0 || !sampleRate) continue;
        // Judged a tenth of a second at a time: a chunk may hold speech and silence both.
        const window = Math.max(1, Math.round(sampleRate / 10));
        for (let start = 0; start < samples.length; start += window) {
          const part = samples.subarray(start, start + window);
          let sum = 0;
          for (const v of part) sum += v * v;
          if (Math.sqrt(sum / part.length) < SILENCE_RMS) this.silentS += part.length / sampleRate;
          else {
            this.silentS = 0;
            if (!announced) this.options.onAudio();
            announced = true;
          }
        }
        if (this.silentS >= this.options.deadAirS) {
          this.fail({ state: 'silent', detail: `dead air: ${this.options.deadAirS} s of silence` });
          break;
        }
      }
      return 'the station ended the stream';
    } catch (error) {
      return `the stream broke: ${(error as Error).message}`;
    } finally {
      decoder?.free();
      this.clearByteTimer();
    }
  }

  /** No bytes at all for the dead-air time: silent too (a stalled server, an undecoded type). */
  private armByteTimer(): void {
    this.clearByteTimer();
    this.byteTimer = this.options.clock.setTimeout(
      () => this.fail({ state: 'silent', detail: `no audio received for ${this.options.deadAirS} s` }),
      this.options.deadAirS * 1000,
    );
  }

  private clearByteTimer(): void {
    if (this.byteTimer) this.options.clock.clearTimeout(this.byteTimer);
    this.byteTimer = null;
  }

  private fail(problem: StationProblem): void {
    if (this.failed) return;
    this.failed = true;
    this.abort.abort();
    this.clearByteTimer();
    this.options.onProblem(problem);
  }
}
