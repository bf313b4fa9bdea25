import type { Page } from './client';
import type { Commune, Village } from './types';
import { useFetch } from './use-fetch';

/** The communes and villages the signed-in account may address (the API scopes both). */
export function usePlaces() {
  const communes = useFetch<Page<Commune>>('/api/v1/communes', { limit: 500 });
  const villages = useFetch<Page<Village>>('/api/v1/villages', { limit: 500 });
  return {
    communes: communes.data?.items ?? [],
    villages: villages.data?.items ?? [],
    error: communes.error ?? villages.error,
  };
}
