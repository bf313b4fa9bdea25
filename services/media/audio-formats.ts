import type { MediaExt } from '../../contracts/media.js';

/** What `file-type` reports for a file's leading bytes. */
export interface DetectedType {
  ext: string;
  mime: string;
}

/** The format a file is stored and served as. */
export interface AudioFormat {
  ext: MediaExt;
  mime: string;
}

/**
 * The audio formats the speaker clusters decode (MP3, WAV, Ogg Vorbis/Opus, AAC as ADTS or M4A),
 * judged from the sniffed type alone: a client's file name and Content-Type are not trusted.
 * Returns null for anything else, including MPEG layers I/II and Ogg video, FLAC or Speex.
 */
export function acceptedFormat(detected: DetectedType | undefined): AudioFormat | null {
  if (!detected) return null;
  const mime = detected.mime.split(';')[0]?.trim().toLowerCase() ?? '';
  switch (mime) {
    case 'audio/mpeg':
      return detected.ext === 'mp3' ? { ext: 'mp3', mime: 'audio/mpeg' } : null;
    case 'audio/wav':
    case 'audio/x-wav':
    case 'audio/vnd.wave':
      return { ext: 'wav', mime: 'audio/wav' };
    case 'audio/ogg':
    case 'audio/opus':
      if (detected.ext === 'opus' || mime === 'audio/opus')
        return { ext: 'ogg', mime: 'audio/ogg; codecs=opus' };
      return detected.ext === 'ogg' ? { ext: 'ogg', mime: 'audio/ogg' } : null;
    case 'audio/aac':
    case 'audio/x-aac':
      return { ext: 'aac', mime: 'audio/aac' };
    case 'audio/mp4':
    case 'audio/x-m4a':
      return detected.ext === 'm4a' ? { ext: 'm4a', mime: 'audio/mp4' } : null;
    default:
      return null;
  }
}
