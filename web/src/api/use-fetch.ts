import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Query } from './client';

export interface Fetched<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** GETs a path whenever it or its query changes; `null` as path waits (e.g. for a chosen id). */
export function useFetch<T>(path: string | null, query?: Query): Fetched<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [generation, setGeneration] = useState(0);
  const queryKey = JSON.stringify(query ?? {});

  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    setLoading(true);
    api<T>(path, { query: JSON.parse(queryKey) as Query, signal: controller.signal })
      .then((answer) => {
        setData(answer);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        setError(toApiError(caught));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    // `generation` is read so that reload() fetches again.
    void generation;
    return () => controller.abort();
  }, [path, queryKey, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}

/**
 * Reads `fetched` again every `everyMs` while it `moves` (the platform sends no live event for it);
 * `onEnded` runs once it has been read and moves no more.
 */
export function useFollow(fetched: Fetched<unknown>, moves: boolean, onEnded: () => void, everyMs: number) {
  const { reload } = fetched;
  useEffect(() => {
    if (!moves) return;
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
  }, [moves, reload, everyMs]);
  const ended = fetched.data !== null && !moves;
  useEffect(() => {
    if (ended) onEnded();
  }, [ended, onEnded]);
}

export function toApiError(caught: unknown): ApiError {
  if (caught instanceof ApiError) return caught;
  return new ApiError(0, 'network', caught instanceof Error ? caught.message : String(caught));
}
