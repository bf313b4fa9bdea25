import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { z } from 'zod';
import type { ChannelProbeResultSchema } from '../../../contracts/cameras';
import { type ApiError, api } from '../api/client';
import { toApiError } from '../api/use-fetch';
import { ErrorMessage } from './error-message';

export type ChannelProbe = z.infer<typeof ChannelProbeResultSchema>;
type Channel = ChannelProbe['channels'][number];

/** A channel picked to onboard, with the profile its camera streams. */
export interface PickedChannel {
  /** 1-based position in the device's list, as an NVR numbers its inputs. */
  number: number;
  videoSourceToken: string;
  profileToken: string | null;
}

/** The camera id and name one channel of the device gets: `<id>-ch<n>`, `<name> · CH<n>`. */
export function channelCamera(draft: { id: string; name: string }, channel: PickedChannel) {
  return { id: `${draft.id.trim()}-ch${channel.number}`, name: `${draft.name.trim()} · CH${channel.number}` };
}

function profileLabel(profile: Channel['profiles'][number]): string {
  const size = profile.width && profile.height ? `${profile.width}×${profile.height}` : null;
  return [profile.name ?? profile.token, profile.encoding, size].filter(Boolean).join(' · ');
}

/**
 * An NVR's (or multi-sensor camera's) channels, listed by asking the device with the address and
 * account typed in the form (POST /cameras/probe-channels; nothing is stored). The technician ticks
 * the channels to onboard, one camera each, and the profile each streams.
 */
export function ChannelPicker({
  device,
  draft,
  picked,
  onPick,
}: {
  device: { xaddr: string; username: string; password: string };
  draft: { id: string; name: string };
  picked: PickedChannel[];
  onPick: (picked: PickedChannel[]) => void;
}) {
  const { t } = useTranslation();
  const [probe, setProbe] = useState<ChannelProbe | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const ready = device.xaddr.trim() !== '' && device.username !== '' && device.password !== '';

  const list = () => {
    setBusy(true);
    setError(null);
    onPick([]);
    api<ChannelProbe>('/api/v1/cameras/probe-channels', {
      method: 'POST',
      body: { xaddr: device.xaddr.trim(), username: device.username, password: device.password },
    })
      .then(setProbe)
      .catch((caught: unknown) => {
        setProbe(null);
        setError(toApiError(caught));
      })
      .finally(() => setBusy(false));
  };

  const toggle = (channel: Channel, number: number, on: boolean) => {
    const others = picked.filter((p) => p.videoSourceToken !== channel.videoSourceToken);
    const profileToken = channel.profiles[0]?.token ?? null;
    onPick(
      on
        ? [...others, { number, videoSourceToken: channel.videoSourceToken, profileToken }].sort(
            (a, b) => a.number - b.number,
          )
        : others,
    );
  };
  const chooseProfile = (videoSourceToken: string, profileToken: string) =>
    onPick(picked.map((p) => (p.videoSourceToken === videoSourceToken ? { ...p, profileToken } : p)));

  const failed = probe && (!probe.reachable || probe.authOk === false || probe.channels.length === 0);

  return (
    <fieldset className="channels" data-testid="camera-channels">
      <legend>{t('cameraForm.channels')}</legend>
      <div className="actions">
        <button type="button" onClick={list} disabled={busy || !ready} data-testid="camera-list-channels">
          {busy ? t('cameraForm.listingChannels') : t('cameraForm.listChannels')}
        </button>
        <span className="muted">{t('cameraForm.channelsHint')}</span>
      </div>
      <ErrorMessage error={error} />
      {failed ? (
        <p className="error" role="alert" data-testid="camera-channels-error">
          {probe.authOk === false
            ? t('cameraForm.channelsRefused')
            : !probe.reachable
              ? t('cameraForm.channelsUnreachable')
              : t('cameraForm.channelsNone')}
          {probe.error ? <span className="muted"> ({probe.error})</span> : null}
        </p>
      ) : null}
      {probe && !failed ? (
        <ul className="found" aria-live="polite">
          {probe.channels.map((channel, i) => {
            const number = i + 1;
            const pick = picked.find((p) => p.videoSourceToken === channel.videoSourceToken);
            const id = `camera-channel-${channel.videoSourceToken}`;
            return (
              <li key={channel.videoSourceToken} data-testid={id}>
                <label className="check" htmlFor={`${id}-pick`}>
                  <input
                    id={`${id}-pick`}
                    type="checkbox"
                    checked={pick !== undefined}
                    disabled={channel.onboardedAs !== null}
                    onChange={(event) => toggle(channel, number, event.target.checked)}
                    data-testid={`${id}-pick`}
                  />
                  <strong>CH{number}</strong>{' '}
                  <span className="muted">
                    {channel.videoSourceToken}
                    {channel.width && channel.height ? ` · ${channel.width}×${channel.height}` : ''}
                  </span>
                </label>
                {channel.onboardedAs ? (
                  <span className="badge">{t('cameraForm.onboardedAs', { id: channel.onboardedAs })}</span>
                ) : pick ? (
                  <>
                    <select
                      aria-label={t('cameraForm.channelProfile', { number })}
                      value={pick.profileToken ?? ''}
                      onChange={(event) => chooseProfile(channel.videoSourceToken, event.target.value)}
                      data-testid={`${id}-profile`}
                    >
                      {channel.profiles.map((profile) => (
                        <option key={profile.token} value={profile.token}>
                          {profileLabel(profile)}
                        </option>
                      ))}
                    </select>
                    <span className="muted">
                      {t('cameraForm.channelBecomes', { id: channelCamera(draft, pick).id })}
                    </span>
                  </>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
    </fieldset>
  );
}
