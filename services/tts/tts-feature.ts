import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { SpeechCache } from './speech-cache.js';
import { CommandEngine, EspeakEngine, type TtsEngine } from './tts-engine.js';
import { ttsRoutes } from './tts-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    tts: { engine: TtsEngine; speech: SpeechCache };
  }
}

/**
 * Vietnamese text-to-speech: eSpeak NG's northern, central and southern voices by default, or the
 * program TTS_COMMAND names (a neural voice, a cloud service). The synthesizer starts on first use;
 * text content in schedules and bulletins is synthesized once and kept as media (SpeechCache).
 */
export function ttsFeature(): Feature<'tts'> {
  let engine: TtsEngine | null = null;
  let cache: SpeechCache | null = null;
  return {
    name: 'tts',
    dependsOn: ['storage', 'media'],
    async start(ctx) {
      const command = ctx.config.TTS_COMMAND;
      engine = command ? new CommandEngine(command) : new EspeakEngine();
      const media = ctx.get('media').library;
      const storage = ctx.get('storage');
      const speech = new SpeechCache({
        db: storage.db,
        state: storage.state,
        engine,
        media,
        clock: ctx.clock,
        logger: ctx.logger,
      });
      cache = speech;
      await speech.start();
      ctx.routes(routePlugin('tts-routes', ttsRoutes, { engine, speech }));
      return { engine, speech };
    },
    async stop() {
      const stopping = engine;
      engine = null;
      await cache?.stop();
      cache = null;
      await stopping?.close();
    },
  };
}
