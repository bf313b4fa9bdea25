import workletUrl from './capture-worklet?worker&url';
import { CHUNK_MS, meterLevel, PcmChunker, type SampleRate } from './pcm';

/** The name capture-worklet.ts registers its processor under. */
const PROCESSOR = 'smart-commune-capture';
/** The fallback's block: the smallest ScriptProcessorNode size that does not crackle on slow PCs. */
const SCRIPT_PROCESSOR_FRAMES = 4096;

/** A voice, not music: the browser's own echo cancelling, noise suppression and level control. */
export const MICROPHONE_CONSTRAINTS: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
};

/**
 * Whether this page may use the microphone: browsers give it only to secure origins (https://,
 * or http://localhost on the PC itself), so a LAN address over plain HTTP is 'insecure'.
 */
export type MicrophoneSupport = 'ok' | 'insecure' | 'unsupported';

export function microphoneSupport(): MicrophoneSupport {
  if (!window.isSecureContext) return 'insecure';
  if (typeof navigator.mediaDevices?.getUserMedia !== 'function' || typeof AudioContext === 'undefined')
    return 'unsupported';
  return 'ok';
}

export type MicrophoneErrorCode =
  | 'microphone_denied'
  | 'microphone_missing'
  | 'microphone_busy'
  | 'microphone_failed';

/** Why the microphone did not open, as a code the console has words for (errorCode.*). */
export class MicrophoneError extends Error {
  constructor(
    readonly code: MicrophoneErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MicrophoneError';
  }
}

function microphoneError(caught: unknown): MicrophoneError {
  const name = caught instanceof DOMException ? caught.name : '';
  const message = caught instanceof Error ? caught.message : String(caught);
  // getUserMedia's rejections (Media Capture and Streams, section 10.3).
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new MicrophoneError('microphone_denied', message);
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new MicrophoneError('microphone_missing', message);
    case 'NotReadableError':
    case 'AbortError':
      return new MicrophoneError('microphone_busy', message);
    default:
      return new MicrophoneError('microphone_failed', message);
  }
}

export interface MicrophoneOptions {
  /** ~100 ms of 16-bit little-endian mono PCM at `sampleRate`, ready for 'live.audio'. */
  onChunk: (pcm: ArrayBuffer) => void;
  /** The microphone went away by itself: unplugged, or its permission withdrawn. */
  onLost: () => void;
}

export interface Microphone {
  /** The rate of the PCM handed to onChunk (the context's own, or 48 kHz resampled). */
  readonly sampleRate: SampleRate;
  readonly capture: 'audio-worklet' | 'script-processor';
  /** The current level, 0..100, for a meter. */
  level(): number;
  /** Releases the microphone (its light goes off) and the audio context. */
  close(): Promise<void>;
}

interface Capture {
  node: AudioNode;
  kind: Microphone['capture'];
  detach(): void;
}

/**
 * Opens the microphone and starts converting what it hears. Call it straight from a click: the
 * audio context is created before the first await, while the click still counts as the user's
 * gesture that browsers' autoplay rules ask for.
 */
export async function openMicrophone(options: MicrophoneOptions): Promise<Microphone> {
  const context = new AudioContext({ latencyHint: 'interactive' });
  let stream: MediaStream | null = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia(MICROPHONE_CONSTRAINTS).catch((caught: unknown) => {
      throw microphoneError(caught);
    });
    await context.resume();
    const chunker = new PcmChunker(context.sampleRate, options.onChunk);
    const source = context.createMediaStreamSource(stream);
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    source.connect(analyser);
    const capture = await captureNode(context, chunker);
    source.connect(capture.node);
    // Nodes are only pulled when they lead to the destination; silent, so nothing echoes.
    const mute = context.createGain();
    mute.gain.value = 0;
    capture.node.connect(mute);
    mute.connect(context.destination);

    const tracks = stream.getAudioTracks();
    const lost = () => options.onLost();
    for (const track of tracks) track.addEventListener('ended', lost);
    const samples = new Float32Array(analyser.fftSize);
    let closed = false;
    const opened = stream;
    return {
      sampleRate: chunker.rate,
      capture: capture.kind,
      level: () => {
        if (closed) return 0;
        analyser.getFloatTimeDomainData(samples);
        return meterLevel(samples);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        for (const track of tracks) track.removeEventListener('ended', lost);
        capture.detach();
        source.disconnect();
        mute.disconnect();
        for (const track of opened.getTracks()) track.stop();
        await context.close();
      },
    };
  } catch (error) {
    for (const track of stream?.getTracks() ?? []) track.stop();
    await context.close().catch((closing: unknown) => console.warn('audio context did not close', closing));
    throw error;
  }
}

/** An AudioWorklet where the browser has one; else the deprecated ScriptProcessorNode (older Safari). */
async function captureNode(context: AudioContext, chunker: PcmChunker): Promise<Capture> {
  if (context.audioWorklet) {
    try {
      await context.audioWorklet.addModule(workletUrl);
      const node = new AudioWorkletNode(context, PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: 'explicit',
        channelInterpretation: 'speakers',
        processorOptions: { frames: Math.round((context.sampleRate * CHUNK_MS) / 2000) },
      });
      node.port.onmessage = (event: MessageEvent<Float32Array>) => chunker.push(event.data);
      return {
        node,
        kind: 'audio-worklet',
        detach: () => {
          node.port.onmessage = null;
          node.port.close();
          node.disconnect();
        },
      };
    } catch (error) {
      // The worklet file did not load (an old cached index.html, a proxy); the fallback still works.
      console.warn('audio worklet unavailable, capturing with a ScriptProcessorNode', error);
    }
  }
  const node = context.createScriptProcessor(SCRIPT_PROCESSOR_FRAMES, 1, 1);
  node.onaudioprocess = (event) => chunker.push(event.inputBuffer.getChannelData(0));
  return {
    node,
    kind: 'script-processor',
    detach: () => {
      node.onaudioprocess = null;
      node.disconnect();
    },
  };
}
