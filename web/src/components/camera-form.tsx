import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiError, api } from '../api/client';
import { usePlaces } from '../api/places';
import type { Camera, DiscoveredCamera } from '../api/types';
import { toApiError } from '../api/use-fetch';
import { useRecordEditor, useRecordForm } from '../api/use-record-editor';
import { ChannelPicker, channelCamera, type PickedChannel } from './camera-channels';
import { DeviceIdField, LocationFields, NameAddressFields } from './device-fields';
import { ErrorMessage } from './error-message';
import { FormCard } from './form-card';
import { CommuneSelect, VillageSelect } from './place-select';
import { RecordButtons, RemoveDialog } from './record-actions';
import { TextField } from './text-field';

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
  snapshotUsername: string;
  snapshotPassword: string;
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
    snapshotUsername: camera?.snapshotUsername ?? '',
    snapshotPassword: '',
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
      ...(draft.snapshotUsername
        ? { snapshotUsername: draft.snapshotUsername, snapshotPassword: draft.snapshotPassword }
        : {}),
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
  // An emptied snapshot user goes back to the ONVIF account; a blank password keeps the stored one.
  if (draft.snapshotUsername !== original.snapshotUsername)
    patch.snapshotUsername = draft.snapshotUsername || null;
  if (draft.snapshotUsername && draft.snapshotPassword) patch.snapshotPassword = draft.snapshotPassword;
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
  const [channels, setChannels] = useState<PickedChannel[]>([]);
  const [onboarding, setOnboarding] = useState(false);
  const [channelError, setChannelError] = useState<ApiError | null>(null);

  /** One camera per picked channel of the device, in channel order; stops at the first refusal. */
  const submitChannels = async (event: FormEvent) => {
    event.preventDefault();
    setOnboarding(true);
    setChannelError(null);
    const body = bodyOf(draft, null);
    const left = [...channels];
    try {
      while (left.length > 0) {
        const channel = left[0] as PickedChannel;
        const saved = await api<Camera>('/api/v1/cameras', {
          method: 'POST',
          body: {
            ...body,
            ...channelCamera(draft, channel),
            videoSourceToken: channel.videoSourceToken,
            profileToken: channel.profileToken,
          },
        });
        left.shift();
        onSaved(saved, true);
      }
    } catch (caught: unknown) {
      setChannelError(toApiError(caught));
      // What was onboarded stays onboarded; the rest can be sent again.
      setChannels(left);
    } finally {
      setOnboarding(false);
    }
  };

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
    <FormCard
      title={camera ? t('cameraForm.editTitle', { name: camera.name }) : t('cameraForm.newTitle')}
      testId="camera-form"
      onSubmit={channels.length > 0 ? submitChannels : submit}
      error={error ?? channelError ?? placesError}
      busy={busy || onboarding}
      submitLabel={
        camera
          ? t('common.save')
          : channels.length > 0
            ? t('cameraForm.onboardChannels', { count: channels.length })
            : t('cameraForm.onboard')
      }
      onCancel={onCancel}
    >
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
          <label htmlFor="camera-form-commune">
            {t('cameraForm.commune')}
            <CommuneSelect
              id="camera-form-commune"
              required
              value={draft.communeId}
              onChange={(communeId) => set({ communeId, villageId: '' })}
              communes={communes}
              emptyLabel={t('cameraForm.chooseCommune')}
              testId="camera-form-commune"
            />
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
        <NameAddressFields
          labels={{ name: t('cameraForm.name'), address: t('cameraForm.address') }}
          value={draft}
          onChange={set}
          testIdPrefix="camera-form"
        />
        <TextField
          label={t('cameraForm.xaddr')}
          required
          type="url"
          maxLength={512}
          placeholder="http://192.168.1.64/onvif/device_service"
          value={draft.xaddr}
          onChange={(xaddr) => set({ xaddr })}
          testId="camera-form-xaddr"
        />
        <TextField
          label={t('cameraForm.username')}
          required
          maxLength={64}
          autoComplete="off"
          value={draft.username}
          onChange={(username) => set({ username })}
          testId="camera-form-username"
        />
        <TextField
          label={camera ? t('cameraForm.passwordKeep') : t('cameraForm.password')}
          required={camera === null}
          type="password"
          maxLength={128}
          autoComplete="new-password"
          value={draft.password}
          onChange={(password) => set({ password })}
          testId="camera-form-password"
        />
        <TextField
          label={t('cameraForm.snapshotUsername')}
          maxLength={64}
          autoComplete="off"
          value={draft.snapshotUsername}
          onChange={(snapshotUsername) => set({ snapshotUsername })}
          testId="camera-form-snapshot-username"
        >
          <span className="muted">{t('cameraForm.snapshotHint')}</span>
        </TextField>
        {draft.snapshotUsername ? (
          <TextField
            label={
              camera?.snapshotUsername
                ? t('cameraForm.snapshotPasswordKeep')
                : t('cameraForm.snapshotPassword')
            }
            required={!camera?.snapshotUsername}
            type="password"
            maxLength={128}
            autoComplete="new-password"
            value={draft.snapshotPassword}
            onChange={(snapshotPassword) => set({ snapshotPassword })}
            testId="camera-form-snapshot-password"
          />
        ) : null}
        <LocationFields
          lat={draft.lat}
          lon={draft.lon}
          onChange={set}
          required="as-a-pair"
          testIdPrefix="camera-form"
        />
      </div>
      {camera ? null : <ChannelPicker device={draft} draft={draft} picked={channels} onPick={setChannels} />}
      {draft.endpointUrn && !camera ? (
        <p className="muted">{t('cameraForm.fromDiscovery', { urn: draft.endpointUrn })}</p>
      ) : null}
    </FormCard>
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
  const editor = useRecordEditor<Camera>('/api/v1/cameras', reload);
  const { editing, setEditing, error, setError } = editor;

  const saved = (camera: Camera, created: boolean) => {
    setEditing(null);
    reload();
    if (!created) return;
    api(`/api/v1/cameras/${encodeURIComponent(camera.id)}/poll`, { method: 'POST' })
      .then(reload)
      .catch((caught: unknown) => setError(toApiError(caught)));
  };

  /** After a technician checked the camera on site: its new certificate is trusted at the next poll, made now. */
  const trustCertificate = (camera: Camera) => {
    setError(null);
    const path = `/api/v1/cameras/${encodeURIComponent(camera.id)}`;
    api(`${path}/certificate`, { method: 'DELETE' })
      .then(() => api(`${path}/poll`, { method: 'POST' }))
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
        <RemoveDialog
          editor={editor}
          title={t('cameraForm.removeTitle', { name: editor.removing?.name ?? '' })}
          message={t('cameraForm.removeMessage')}
          testId="camera-remove"
        />
      </>
    ),
    tileActions: (camera) => (
      <RecordButtons editor={editor} record={camera} testIdPrefix="camera">
        {camera.health.reason === 'certificate-changed' ? (
          <button
            type="button"
            onClick={() => trustCertificate(camera)}
            title={t('cameraForm.trustCertificateHint')}
            data-testid={`camera-trust-certificate-${camera.id}`}
          >
            {t('cameraForm.trustCertificate')}
          </button>
        ) : null}
      </RecordButtons>
    ),
  };
}
