import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Page } from './api/client';
import type { Content, Fallback, Media, Station } from './api/types';
import { useFetch } from './api/use-fetch';

export interface ContentWords {
  stations: Station[];
  stationName(id: string): string;
  mediaName(id: string): string;
  /** What a schedule or broadcast plays: "Tiếp sóng: VOV1", an audio file, a stream. */
  content(content: Content): string;
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
  const { t } = useTranslation();
  const stations = useFetch<Station[]>('/api/v1/stations');
  const media = useFetch<Page<Media>>('/api/v1/media', { limit: 500 });
  const words = useMemo<ContentWords>(() => {
    const stationList = stations.data ?? [];
    const stationName = (id: string) => stationList.find((s) => s.id === id)?.name ?? id;
    const mediaName = (id: string) => media.data?.items.find((m) => m.id === id)?.name ?? id;
    return {
      stations: stationList,
      stationName,
      mediaName,
      content: (content) => {
        switch (content.kind) {
          case 'media':
            return t('contentText.media', { name: mediaName(content.mediaId) });
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
  }, [t, stations.data, media.data]);
  return {
    words,
    /** The stations as read; undefined until they arrive. */
    stations: stations.data ?? undefined,
    error: stations.error ?? media.error,
    reloadStations: stations.reload,
  };
}
