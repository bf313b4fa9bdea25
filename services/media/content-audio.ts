import type { Content } from '../../contracts/broadcasts.js';
import { InvalidRequestError } from '../errors.js';

/** Content relayed live for a time window (a stream, a station), as opposed to files that end. */
export function isRelay(content: Content): content is Extract<Content, { kind: 'stream' | 'station' }> {
  return content.kind === 'stream' || content.kind === 'station';
}

/** Every media item a content plays: its file, its synthesized speech, a programme's items. */
export function contentMediaIds(content: Content): string[] {
  switch (content.kind) {
    case 'media':
      return [content.mediaId];
    case 'tts':
      return content.mediaId ? [content.mediaId] : [];
    case 'programme':
      return content.items.flatMap((item) =>
        item.kind === 'silence' || item.mediaId === undefined ? [] : [item.mediaId],
      );
    default:
      return [];
  }
}

/**
 * How long one play of a content lasts, in seconds: a file's length, a programme's items end to
 * end. Text must have been synthesized (its `mediaId` set) first. Relays have no length of their own.
 */
export function contentDurationS(content: Content, mediaDuration: (mediaId: string) => number): number {
  switch (content.kind) {
    case 'media':
      return mediaDuration(content.mediaId);
    case 'tts':
      return mediaDuration(spoken(content.mediaId));
    case 'programme':
      return content.items.reduce(
        (sum, item) => sum + (item.kind === 'silence' ? item.durationS : mediaDuration(spoken(item.mediaId))),
        0,
      );
    default:
      throw new InvalidRequestError(`a ${content.kind} relay lasts its time window (durationS)`);
  }
}

function spoken(mediaId: string | undefined): string {
  if (mediaId === undefined) throw new Error('text content used before its speech was synthesized');
  return mediaId;
}

/** A short description of one programme item, for the proof of delivery and the broadcast log. */
export function programmeLabels(content: Content): string[] {
  if (content.kind !== 'programme') return [];
  return content.items.map((item) => {
    switch (item.kind) {
      case 'media':
        return `media ${item.mediaId}`;
      case 'jingle':
        return `jingle (${item.role}) ${item.mediaId}`;
      case 'tts':
        return `tts: ${item.text.length > 60 ? `${item.text.slice(0, 59)}…` : item.text}`;
      default:
        return `silence ${item.durationS} s`;
    }
  });
}
