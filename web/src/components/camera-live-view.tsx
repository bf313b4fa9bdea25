import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Camera } from '../api/types';
import { Dialog } from './dialog';

/**
 * A camera's live picture for police: the platform relays the camera's video as MJPEG
 * (multipart/x-mixed-replace), which an <img> shows frame by frame. Closing the dialog closes the
 * connection, which ends the view and its audit record.
 */
export function CameraLiveDialog({ camera, onClose }: { camera: Camera | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Dialog
      open={camera !== null}
      title={t('cameras.liveOf', { name: camera?.name ?? '' })}
      onClose={onClose}
      testId="camera-live"
    >
      {camera ? <LivePicture key={camera.id} camera={camera} /> : null}
    </Dialog>
  );
}

function LivePicture({ camera }: { camera: Camera }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLImageElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const image = ref.current;
    // A detached <img> may go on loading its stream; without a source it stops at once.
    return () => image?.removeAttribute('src');
  }, []);

  return (
    <div className="camera-live">
      <img
        ref={ref}
        src={`/api/v1/cameras/${encodeURIComponent(camera.id)}/live`}
        alt={t('cameras.liveOf', { name: camera.name })}
        width={640}
        height={368}
        onError={() => setFailed(true)}
        data-testid="camera-live-image"
      />
      {failed ? (
        <p role="alert" data-testid="camera-live-failed">
          {t('cameras.liveUnavailable')}
        </p>
      ) : null}
      <p className="muted">{t('cameras.liveAudited')}</p>
    </div>
  );
}
