import type { Page } from './client';
import { type ClusterLive, useLive } from './live';
import type { Cluster, Group, Village } from './types';
import { useFetch } from './use-fetch';

/** A cluster as the console shows it: the registry record with the freshest live status on top. */
export interface ClusterView {
  id: string;
  name: string;
  villageId: string;
  communeId: string;
  address: string | null;
  location: { lat: number; lon: number };
  online: boolean;
  since: string | null;
  reason: string | null;
  lastSeen: string | null;
  signalDbm: number | null;
  volume: number | null;
  playing: boolean | null;
  temperatureC: number | null;
  supplyV: number | null;
  speakers: { idx: number; label: string | null; ok: boolean | null; fault: string | null }[];
}

function view(cluster: Cluster, status: ClusterLive | undefined): ClusterView {
  const base = cluster.status;
  return {
    id: cluster.id,
    name: cluster.name,
    villageId: cluster.villageId,
    communeId: cluster.communeId,
    address: cluster.address,
    location: cluster.location,
    online: status?.online ?? base.online,
    since: status ? status.since : base.since,
    reason: status ? status.reason : base.reason,
    lastSeen: status ? status.lastSeen : base.lastSeen,
    signalDbm: status ? status.signalDbm : base.signalDbm,
    volume: status ? status.volume : base.volume,
    playing: status ? status.playing : base.playing,
    temperatureC: status ? status.temperatureC : base.tempC,
    supplyV: status ? status.supplyV : base.supplyV,
    speakers: cluster.speakers.map((speaker) => {
      const liveSpeaker = status?.speakers.find((s) => s.idx === speaker.idx);
      return liveSpeaker ? { ...speaker, ok: liveSpeaker.ok, fault: liveSpeaker.fault } : speaker;
    }),
  };
}

export function useClusters() {
  const clusters = useFetch<Page<Cluster>>('/api/v1/clusters', { limit: 500 });
  const villages = useFetch<Page<Village>>('/api/v1/villages', { limit: 500 });
  const state = useLive();
  const items = (clusters.data?.items ?? []).map((cluster) => view(cluster, state.clusters.get(cluster.id)));
  return {
    clusters: items,
    villages: villages.data?.items ?? [],
    error: clusters.error ?? villages.error,
    loading: clusters.loading || villages.loading,
    reload: clusters.reload,
  };
}

export function useGroups() {
  return useFetch<Page<Group>>('/api/v1/groups', { limit: 500 });
}
