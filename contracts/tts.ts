import { z } from 'zod';

/** Text read aloud: the bulletin as typed, and the voice of the commune's region. */
export const TTS_VOICES = ['northern', 'central', 'southern'] as const;

export const SpeechRequestSchema = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1)
    .max(5_000)
    .describe('Vietnamese text; numbers, dates, units and UBND etc. are read out'),
  voice: z.enum(TTS_VOICES).default('northern').describe('giọng Bắc, Trung or Nam'),
});
export type SpeechRequest = z.input<typeof SpeechRequestSchema>;

export const SpeechMediaRequestSchema = SpeechRequestSchema.extend({
  name: z.string().trim().min(1).max(200).describe('the media item name'),
});
