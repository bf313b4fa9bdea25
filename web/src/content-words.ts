import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Page } from './api/client';
import type { Content, Fallback, Media, ProgrammeItem, Station } from './api/types';
import { useFetch } from './api/use-fetch';
import { allowed, useSession } from './session';

/** A text read aloud is quoted this far in a line; the whole text is on the approval page. */
const QUOTE_MAX = 80;

function quote(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > QUOTE_MAX ? `${line.slice(0, QUOTE_MAX - 1)}…` : line;
}

export interface ContentWords {
  stations: Station[];
  stationName(id: string): string;
  mediaName(id: string): string;
  /** What a schedule or broadcast plays: "Tiếp sóng: VOV1", an audio file, a stream, a text read aloud. */
  content(content: Content): string;
  /** One part of a programme: "Nhạc hiệu mở đầu: …", "Đọc: “…”", "Lặng 2 giây". */
  programmeItem(item: ProgrammeItem): string;
  /** What a station's relay falls back to: "Chuyển sang VOV2", "Phát tệp Nhạc chờ", "Dừng tiếp sóng". */
  fallback(fallback: Fallback): string;
  /** What a relay switched to, in short: the station's or the file's name, or "dừng". */
  switchedTo(fallback: Fallback): string;
}

/**
 * Names for the ids content refers to (stations, library items), read once per page; an id whose
 * record is gone (or not yet read) is shown as it is.
 */
export function useContentWords() {
  const { t, i18n } = useTranslation();
  // Approvers hear the library but do not read the stations: their ids stand for names.
  const { roles } = useSession().me;
  const stations = useFetch<Station[]>(
    allowed(roles, ['operator', 'technician']) ? '/api/v1/stations' : null,
  );
  const media = useFetch<Page<Media>>(
    allowed(roles, ['operator', 'approver', 'technician']) ? '/api/v1/media' : null,
    { limit: 500 },
  );
  const words = useMemo<ContentWords>(() => {
    const seconds = new Intl.NumberFormat(i18n.language === 'en' ? 'en-GB' : 'vi-VN', {
      maximumFractionDigits: 1,
    });
    const stationList = stations.data ?? [];
    const stationName = (id: string) => stationList.find((s) => s.id === id)?.name ?? id;
    const mediaName = (id: string) => media.data?.items.find((m) => m.id === id)?.name ?? id;
    const programmeItem = (item: ProgrammeItem) => {
      switch (item.kind) {
        case 'media':
          return mediaName(item.mediaId);
        case 'jingle':
          return t('contentText.jingle', {
            role: t(`programme.role.${item.role}`),
            name: mediaName(item.mediaId),
          });
        case 'tts':
          return t('contentText.ttsItem', { text: quote(item.text) });
        case 'silence':
          return t('contentText.silence', { seconds: seconds.format(item.durationS) });
      }
    };
    return {
      stations: stationList,
      stationName,
      mediaName,
      programmeItem,
      content: (content) => {
        switch (content.kind) {
          case 'media':
            return t('contentText.media', { name: mediaName(content.mediaId) });
          case 'tts':
            return t('contentText.tts', {
              voice: t(`tts.voices.${content.voice}`),
              text: quote(content.text),
            });
          case 'programme':
            return t('contentText.programme', {
              count: content.items.length,
              items: content.items.map(programmeItem).join(' · '),
            });
          case 'stream':
            return t('contentText.stream', { url: content.url });
          case 'station':
            return t('contentText.station', { name: stationName(content.stationId) });
        }
      },
      fallback: (fallback) => {
        switch (fallback.kind) {
          case 'stop':
            return t('fallback.stop');
          case 'station':
            return t('fallback.station', { name: stationName(fallback.stationId) });
          case 'media':
            return t('fallback.media', { name: mediaName(fallback.mediaId) });
        }
      },
      switchedTo: (fallback) => {
        switch (fallback.kind) {
          case 'stop':
            return t('fallback.stopped');
          case 'station':
            return stationName(fallback.stationId);
          case 'media':
            return mediaName(fallback.mediaId);
        }
      },
    };
  }, [t, i18n.language, stations.data, media.data]);
  return {
    words,
    /** The stations as read; undefined until they arrive. */
    stations: stations.data ?? undefined,
    error: stations.error ?? media.error,
    reloadStations: stations.reload,
  };
}
