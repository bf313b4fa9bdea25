import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MediaSchema } from '../../contracts/media.js';
import { SpeechMediaRequestSchema, SpeechRequestSchema } from '../../contracts/tts.js';
import { homeCommune } from '../accounts/roles.js';
import { errorResponses } from '../api/pagination.js';
import { normalizeVietnamese } from './normalize-vi.js';
import type { SpeechCache } from './speech-cache.js';
import type { TtsEngine } from './tts-engine.js';

export interface TtsRouteDeps {
  engine: TtsEngine;
  speech: SpeechCache;
}

/**
 * Text read aloud: a preview to listen to before anything is scheduled, and the synthesized
 * bulletin kept as a media item (with its playing time) that schedules and bulletins can play.
 */
export const ttsRoutes: FastifyPluginAsyncZod<{ deps: TtsRouteDeps }> = async (app, { deps }) => {
  const tags = ['media'];
  const speak = (text: string, voice: 'northern' | 'central' | 'southern') =>
    deps.engine.synthesize(normalizeVietnamese(text, voice), voice);

  app.post(
    '/tts/preview',
    {
      config: { access: ['operator', 'approver'], audit: 'media.tts.preview' },
      schema: {
        tags,
        summary: 'Hear a text read aloud (WAV) before it is kept or scheduled',
        body: SpeechRequestSchema,
        response: { 200: z.unknown().describe('the speech as a WAV file'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const speech = await speak(request.body.text, request.body.voice);
      request.auditNote = { detail: { voice: request.body.voice, characters: request.body.text.length } };
      return reply.type('audio/wav').header('cache-control', 'no-store').send(speech.wav);
    },
  );

  app.post(
    '/tts/media',
    {
      config: { access: ['operator'], audit: 'media.tts' },
      schema: {
        tags,
        summary: 'Read a text aloud and keep it in the media library',
        body: SpeechMediaRequestSchema,
        response: { 201: MediaSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { text, voice, name } = request.body;
      const owner = {
        username: request.principal?.username ?? null,
        communeId: homeCommune(request.principal),
      };
      const record = await deps.speech.keep({ text, voice }, name, owner);
      request.auditNote = {
        target: { type: 'media', id: record.id },
        after: { name, voice, characters: text.length, durationS: record.durationS },
      };
      return reply.status(201).send(record);
    },
  );
};
