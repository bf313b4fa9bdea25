import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import { usePlaces } from '../api/places';
import type { Camera, DiscoveredCamera } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useRecordEditor, useRecordForm } from '../api/use-record-editor';
import { DeviceIdField, LocationFields } from './device-fields';
import { ConfirmDialog } from './dialog';
import { ErrorMessage } from './error-message';
import { useFocusFirst } from './focus-first';
import { VillageSelect } from './village-select';

interface Draft {
  id: string;
  communeId: string;
  villageId: string;
  name: string;
  address: string;
  lat: string;
  lon: string;
  xaddr: string;
  username: string;
  password: string;
  endpointUrn: string | null;
}

function draftOf(camera: Camera | null): Draft {
  return {
    id: camera?.id ?? '',
    communeId: camera?.communeId ?? '',
    villageId: camera?.villageId ?? '',
    name: camera?.name ?? '',
    address: camera?.address ?? '',
    lat: camera?.location ? String(camera.location.lat) : '',
    lon: camera?.location ? String(camera.location.lon) : '',
    xaddr: camera?.xaddr ?? '',
    username: camera?.username ?? '',
    password: '',
    endpointUrn: camera?.endpointUrn ?? null,
  };
}

/** The body of POST /cameras, or of a PATCH naming only what changed (a blank password keeps it). */
function bodyOf(draft: Draft, before: Camera | null): Record<string, unknown> {
  const location = draft.lat && draft.lon ? { lat: Number(draft.lat), lon: Number(draft.lon) } : null;
  const fields = {
    villageId: draft.villageId || null,
    name: draft.name.trim(),
    address: draft.address.trim() || null,
    location,
    xaddr: draft.xaddr.trim(),
    username: draft.username,
  };
  if (!before)
    return {
      id: draft.id.trim(),
      communeId: draft.communeId,
      ...fields,
      password: draft.password,
      endpointUrn: draft.endpointUrn,
    };
  const original = draftOf(before);
  const patch: Record<string, unknown> = {};
  for (const key of ['villageId', 'name', 'address', 'xaddr', 'username'] as const) {
    if (fields[key] !== (before[key] ?? null)) patch[key] = fields[key];
  }
  if (draft.lat !== original.lat || draft.lon !== original.lon) patch.location = location;
  if (draft.endpointUrn !== before.endpointUrn) patch.endpointUrn = draft.endpointUrn;
  if (draft.password) patch.password = draft.password;
  return patch;
}

/** Cameras that answer a WS-Discovery probe on the platform's network; picking one fills the form. */
function Discovery({ onPick }: { onPick: (found: DiscoveredCamera) => void }) {
  const { t } = useTranslation();
  const [found, setFound] = useState<DiscoveredCamera[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const probe = () => {
    setBusy(true);
    setError(null);
    api<{ items: DiscoveredCamera[] }>('/api/v1/cameras/discovery', {
      method: 'POST',
      body: { timeoutMs: 3000 },
    })
      .then((answer) => setFound(answer.items))
      .catch((caught: unknown) => setError(toApiError(caught)))
      .finally(() => setBusy(false));
  };

  return (
    <div className="discovery" data-testid="camera-discovery">
      <div className="actions">
        <button type="button" onClick={probe} disabled={busy} data-testid="camera-discover">
          {busy ? t('cameraForm.searching') : t('cameraForm.discover')}
        </button>
        <span className="muted">{t('cameraForm.discoverHint')}</span>
      </div>
      <ErrorMessage error={error} />
      {found && found.length === 0 ? <p className="muted">{t('cameraForm.noneFound')}</p> : null}
      {found && found.length > 0 ? (
        <ul className="found" aria-live="polite">
          {found.map((camera, i) => (
            <li key={camera.endpointUrn} data-testid={`camera-found-${i}`}>
              <div>
                <strong>{camera.name ?? camera.hardware ?? camera.from}</strong>
                {camera.hardware && camera.name ? <span className="muted"> · {camera.hardware}</span> : null}
                <div className="muted">{camera.xaddr}</div>
              </div>
              {camera.onboardedAs ? (
                <span className="badge">{t('cameraForm.onboardedAs', { id: camera.onboardedAs })}</span>
              ) : (
                <button type="button" onClick={() => onPick(camera)} data-testid={`camera-found-pick-${i}`}>
                  {t('cameraForm.pick')}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Onboards a camera by its ONVIF address and account, or edits an onboarded one. */
export function CameraForm({
  camera,
  onSaved,
  onCancel,
}: {
  camera: Camera | null;
  onSaved: (saved: Camera, created: boolean) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { communes, villages, error: placesError } = usePlaces();
  const { draft, setDraft, set, busy, error, submit } = useRecordForm({
    collection: '/api/v1/cameras',
    record: camera,
    draftOf,
    bodyOf,
    onSaved,
  });
  const formRef = useRef<HTMLFormElement>(null);
  useFocusFirst(formRef);

  // An account of one commune has nothing to choose.
  useEffect(() => {
    const only = communes[0];
    if (!camera && communes.length === 1 && only && draft.communeId !== only.id)
      setDraft((current) => ({ ...current, communeId: only.id }));
  }, [camera, communes, draft.communeId, setDraft]);

  const pick = (found: DiscoveredCamera) =>
    set({
      xaddr: found.xaddr,
      endpointUrn: found.endpointUrn,
      name: draft.name || found.name || found.hardware || '',
      address: draft.address || found.location || '',
    });

  const communeVillages = villages.filter((v) => v.communeId === draft.communeId);

  return (
    <form ref={formRef} className="card form" onSubmit={submit} data-testid="camera-form">
      <h2>{camera ? t('cameraForm.editTitle', { name: camera.name }) : t('cameraForm.newTitle')}</h2>
      {camera ? null : <Discovery onPick={pick} />}
      <div className="grid">
        <DeviceIdField
          label={t('cameraForm.id')}
          value={draft.id}
          fixed={camera !== null}
          onChange={(id) => set({ id })}
          testId="camera-form-id"
        />
        {camera || communes.length === 1 ? null : (
          <label>
            {t('cameraForm.commune')}
            <select
              required
              value={draft.communeId}
              onChange={(e) => set({ communeId: e.target.value, villageId: '' })}
              data-testid="camera-form-commune"
            >
              <option value="">{t('cameraForm.chooseCommune')}</option>
              {communes.map((commune) => (
                <option key={commune.id} value={commune.id}>
                  {commune.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label htmlFor="camera-form-village">
          {t('cameraForm.village')}
          <VillageSelect
            id="camera-form-village"
            value={draft.villageId}
            onChange={(villageId) => set({ villageId })}
            villages={communeVillages}
            communes={communes}
            emptyLabel={t('cameraForm.noVillage')}
          />
        </label>
        <label>
          {t('cameraForm.name')}
          <input
            required
            maxLength={120}
            value={draft.name}
            onChange={(e) => set({ name: e.target.value })}
            data-testid="camera-form-name"
          />
        </label>
        <label>
          {t('cameraForm.address')}
          <input maxLength={240} value={draft.address} onChange={(e) => set({ address: e.target.value })} />
        </label>
        <label>
          {t('cameraForm.xaddr')}
          <input
            required
            type="url"
            maxLength={512}
            placeholder="http://192.168.1.64/onvif/device_service"
            value={draft.xaddr}
            onChange={(e) => set({ xaddr: e.target.value })}
            data-testid="camera-form-xaddr"
          />
        </label>
        <label>
          {t('cameraForm.username')}
          <input
            required
            maxLength={64}
            autoComplete="off"
            value={draft.username}
            onChange={(e) => set({ username: e.target.value })}
            data-testid="camera-form-username"
          />
        </label>
        <label>
          {camera ? t('cameraForm.passwordKeep') : t('cameraForm.password')}
          <input
            required={camera === null}
            type="password"
            maxLength={128}
            autoComplete="new-password"
            value={draft.password}
            onChange={(e) => set({ password: e.target.value })}
            data-testid="camera-form-password"
          />
        </label>
        <LocationFields
          lat={draft.lat}
          lon={draft.lon}
          onChange={(location) => set(location)}
          required="as-a-pair"
          testIdPrefix="camera-form"
        />
      </div>
      {draft.endpointUrn && !camera ? (
        <p className="muted">{t('cameraForm.fromDiscovery', { urn: draft.endpointUrn })}</p>
      ) : null}
      <ErrorMessage error={error ?? placesError} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy} data-testid="camera-form-save">
          {camera ? t('common.save') : t('cameraForm.onboard')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

/**
 * The technician's controls on the camera wall: an onboarding button and form, and per camera an
 * edit and a remove button. A new camera is polled at once, so the wall shows its health without
 * waiting for the next sweep.
 */
export function useCameraOnboarding(reload: () => void): {
  toolbar: ReactNode;
  panel: ReactNode;
  tileActions: (camera: Camera) => ReactNode;
} {
  const { t } = useTranslation();
  const { editing, setEditing, removing, setRemoving, error, setError, remove } = useRecordEditor<Camera>(
    '/api/v1/cameras',
    reload,
  );

  const saved = (camera: Camera, created: boolean) => {
    setEditing(null);
    reload();
    if (!created) return;
    api(`/api/v1/cameras/${encodeURIComponent(camera.id)}/poll`, { method: 'POST' })
      .then(reload)
      .catch((caught: unknown) => setError(toApiError(caught)));
  };

  return {
    toolbar: (
      <button type="button" className="primary" onClick={() => setEditing('new')} data-testid="camera-new">
        {t('cameraForm.new')}
      </button>
    ),
    panel: (
      <>
        {editing ? (
          <CameraForm
            key={editing === 'new' ? 'new' : editing.id}
            camera={editing === 'new' ? null : editing}
            onSaved={saved}
            onCancel={() => setEditing(null)}
          />
        ) : null}
        <ErrorMessage error={error} />
        <ConfirmDialog
          open={removing !== null}
          title={t('cameraForm.removeTitle', { name: removing?.name ?? '' })}
          message={t('cameraForm.removeMessage')}
          confirmLabel={t('common.delete')}
          danger
          onConfirm={remove}
          onCancel={() => setRemoving(null)}
          testId="camera-remove"
        />
      </>
    ),
    tileActions: (camera) => (
      <>
        <button type="button" onClick={() => setEditing(camera)} data-testid={`camera-edit-${camera.id}`}>
          {t('common.edit')}
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => setRemoving(camera)}
          data-testid={`camera-delete-${camera.id}`}
        >
          {t('common.delete')}
        </button>
      </>
    ),
  };
}
