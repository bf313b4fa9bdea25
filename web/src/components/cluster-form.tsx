import { useTranslation } from 'react-i18next';
import type { Cluster, Commune, Village } from '../api/types';
import { useRecordForm } from '../api/use-record-editor';
import { DeviceIdField, LocationFields, NameAddressFields } from './device-fields';
import { FormCard } from './form-card';
import { VillageSelect } from './place-select';
import { TextField } from './text-field';

interface Draft {
  id: string;
  villageId: string;
  name: string;
  address: string;
  lat: string;
  lon: string;
  heartbeatTimeoutS: string;
  speakers: string;
}

function draftOf(cluster: Cluster | null): Draft {
  if (!cluster)
    return {
      id: '',
      villageId: '',
      name: '',
      address: '',
      lat: '',
      lon: '',
      heartbeatTimeoutS: '',
      speakers: '2',
    };
  return {
    id: cluster.id,
    villageId: cluster.villageId,
    name: cluster.name,
    address: cluster.address ?? '',
    lat: String(cluster.location.lat),
    lon: String(cluster.location.lon),
    heartbeatTimeoutS: cluster.heartbeatTimeoutS === null ? '' : String(cluster.heartbeatTimeoutS),
    speakers: String(cluster.speakers.length),
  };
}

/** The body of POST /clusters, or of a PATCH naming only what changed. */
function bodyOf(draft: Draft, before: Cluster | null): Record<string, unknown> {
  const fields = {
    villageId: draft.villageId,
    name: draft.name.trim(),
    address: draft.address.trim() || null,
    location: { lat: Number(draft.lat), lon: Number(draft.lon) },
    heartbeatTimeoutS: draft.heartbeatTimeoutS ? Number(draft.heartbeatTimeoutS) : null,
  };
  const speakers = Number(draft.speakers);
  if (!before) return { id: draft.id.trim(), ...fields, speakers };
  const original = draftOf(before);
  const patch: Record<string, unknown> = {};
  if (draft.villageId !== original.villageId) patch.villageId = fields.villageId;
  if (fields.name !== before.name) patch.name = fields.name;
  if (fields.address !== before.address) patch.address = fields.address;
  if (draft.lat !== original.lat || draft.lon !== original.lon) patch.location = fields.location;
  if (draft.heartbeatTimeoutS !== original.heartbeatTimeoutS)
    patch.heartbeatTimeoutS = fields.heartbeatTimeoutS;
  // A new count relabels the outputs "Loa 1".."Loa n"; unchanged, the labels stay.
  if (draft.speakers !== original.speakers) patch.speakers = speakers;
  return patch;
}

/** Registers a speaker cluster by the id printed on it, or edits a registered one. */
export function ClusterForm({
  cluster,
  villages,
  communes,
  onSaved,
  onCancel,
}: {
  cluster: Cluster | null;
  villages: Village[];
  communes: Commune[];
  onSaved: (saved: Cluster, created: boolean) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { draft, set, busy, error, submit } = useRecordForm({
    collection: '/api/v1/clusters',
    record: cluster,
    draftOf,
    bodyOf,
    onSaved,
  });
  return (
    <FormCard
      title={cluster ? t('clusterForm.editTitle', { name: cluster.name }) : t('clusterForm.newTitle')}
      testId="cluster-form"
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={cluster ? t('common.save') : t('clusterForm.register')}
      onCancel={onCancel}
    >
      <div className="grid">
        <DeviceIdField
          label={t('clusterForm.id')}
          value={draft.id}
          fixed={cluster !== null}
          onChange={(id) => set({ id })}
          testId="cluster-form-id"
        />
        <label htmlFor="cluster-form-village">
          {t('clusterForm.village')}
          <VillageSelect
            id="cluster-form-village"
            required
            value={draft.villageId}
            onChange={(villageId) => set({ villageId })}
            villages={villages}
            communes={communes}
            emptyLabel={t('clusterForm.chooseVillage')}
            testId="cluster-form-village"
          />
        </label>
        <NameAddressFields
          labels={{ name: t('clusterForm.name'), address: t('clusterForm.address') }}
          value={draft}
          onChange={set}
          testIdPrefix="cluster-form"
        />
        <LocationFields
          lat={draft.lat}
          lon={draft.lon}
          onChange={set}
          required="always"
          testIdPrefix="cluster-form"
        />
        <TextField
          label={t('clusterForm.speakers')}
          required
          type="number"
          min={1}
          max={16}
          value={draft.speakers}
          onChange={(speakers) => set({ speakers })}
          testId="cluster-form-speakers"
        />
        <TextField
          label={t('clusterForm.heartbeatTimeout')}
          type="number"
          min={10}
          max={86_400}
          value={draft.heartbeatTimeoutS}
          onChange={(heartbeatTimeoutS) => set({ heartbeatTimeoutS })}
        />
      </div>
    </FormCard>
  );
}
