/** A cluster as the registry stores it, before presence adds what is known about it now. */
export interface ClusterRecord {
  id: string;
  villageId: string;
  communeId: string;
  name: string;
  address: string | null;
  location: { lat: number; lon: number };
  heartbeatTimeoutS: number | null;
  speakers: { idx: number; label: string }[];
  credentialIssuedAt: string | null;
  createdAt: string;
  updatedAt: string;
}
