import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { CommandEngine, EspeakEngine, type TtsEngine } from './tts-engine.js';
import { ttsRoutes } from './tts-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    tts: TtsEngine;
  }
}

/**
 * Vietnamese text-to-speech: eSpeak NG's northern, central and southern voices by default, or the
 * program TTS_COMMAND names (a neural voice, a cloud service). The synthesizer starts on first use.
 */
export function ttsFeature(): Feature<'tts'> {
  let engine: TtsEngine | null = null;
  return {
    name: 'tts',
    dependsOn: ['media'],
    start(ctx) {
      const command = ctx.config.TTS_COMMAND;
      engine = command ? new CommandEngine(command) : new EspeakEngine();
      ctx.routes(routePlugin('tts-routes', ttsRoutes, { engine, media: ctx.get('media').library }));
      return engine;
    },
    async stop() {
      const stopping = engine;
      engine = null;
      await stopping?.close();
    },
  };
}
