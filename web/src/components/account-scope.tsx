import { useTranslation } from 'react-i18next';
import type { Commune, Province, User } from '../api/types';

/** Where an account may act, as the form holds it. */
export interface ScopeDraft {
  kind: 'all' | 'one' | 'several' | 'province';
  communeId: string;
  communeIds: string[];
  provinceId: string;
}

const KINDS: ScopeDraft['kind'][] = ['all', 'one', 'several', 'province'];

export const EVERYWHERE: ScopeDraft = { kind: 'all', communeId: '', communeIds: [], provinceId: '' };

export function scopeDraftOf(user: User): ScopeDraft {
  if (user.provinceId) return { ...EVERYWHERE, kind: 'province', provinceId: user.provinceId };
  if (user.communeIds.length === 1)
    return { ...EVERYWHERE, kind: 'one', communeId: user.communeIds[0] ?? '', communeIds: user.communeIds };
  if (user.communeIds.length > 1) return { ...EVERYWHERE, kind: 'several', communeIds: user.communeIds };
  return EVERYWHERE;
}

/**
 * The scope fields of a create or patch (contracts/accounts.ts): both are named every time, so the
 * one not chosen is lifted.
 */
export function scopeBody(scope: ScopeDraft): { communeIds: string[]; provinceId: string | null } {
  switch (scope.kind) {
    case 'all':
      return { communeIds: [], provinceId: null };
    case 'one':
      return { communeIds: scope.communeId ? [scope.communeId] : [], provinceId: null };
    case 'several':
      return { communeIds: scope.communeIds, provinceId: null };
    case 'province':
      return { communeIds: [], provinceId: scope.provinceId || null };
  }
}

/** What the scope still lacks (a commune or a province to choose), as an i18n key, or null. */
export function scopeProblem(scope: ScopeDraft): string | null {
  if (scope.kind === 'one' && !scope.communeId) return 'users.scopeNeedCommune';
  if (scope.kind === 'several' && scope.communeIds.length === 0) return 'users.scopeNeedCommunes';
  if (scope.kind === 'province' && !scope.provinceId) return 'users.scopeNeedProvince';
  return null;
}

/** An account's scope in words: "Tất cả các xã", a commune's name, "2 xã: …", "Tỉnh Phú Thọ (mọi xã)". */
export function useScopeWords(communes: Commune[], provinces: Province[]) {
  const { t } = useTranslation();
  const communeName = (id: string) => communes.find((c) => c.id === id)?.name ?? id;
  return (user: User): string => {
    if (user.provinceId)
      return t('users.scopeProvinceOf', {
        name: provinces.find((p) => p.id === user.provinceId)?.name ?? user.provinceId,
      });
    if (user.communeIds.length === 0) return t('users.allCommunes');
    if (user.communeIds.length === 1) return communeName(user.communeIds[0] ?? '');
    return t('users.scopeSeveralOf', {
      count: user.communeIds.length,
      names: user.communeIds.map(communeName).join(', '),
    });
  };
}

/** Every commune, one, several, or a province (every commune of it, as communes are added). */
export function ScopeFields({
  value,
  onChange,
  communes,
  provinces,
  prefix,
}: {
  value: ScopeDraft;
  onChange: (scope: ScopeDraft) => void;
  communes: Commune[];
  provinces: Province[];
  /**
   * Test ids are `<prefix>-scope-<kind>` (the radios), `<prefix>-scope-commune-select`,
   * `<prefix>-scope-commune-<id>` (the checkboxes) and `<prefix>-scope-province-select`.
   */
  prefix: string;
}) {
  const { t } = useTranslation();
  const set = (patch: Partial<ScopeDraft>) => onChange({ ...value, ...patch });
  return (
    <fieldset className="targets" data-testid={`${prefix}-scope`}>
      <legend>{t('users.scope')}</legend>
      <div className="toolbar wrap">
        {KINDS.map((kind) => (
          <label key={kind} className="check">
            <input
              type="radio"
              name={`${prefix}-scope`}
              checked={value.kind === kind}
              onChange={() => set({ kind })}
              data-testid={`${prefix}-scope-${kind}`}
            />
            {t(`users.scopeKind.${kind}`)}
          </label>
        ))}
      </div>
      {value.kind === 'one' ? (
        <label>
          {t('users.commune')}
          <select
            required
            value={value.communeId}
            onChange={(event) => set({ communeId: event.target.value })}
            data-testid={`${prefix}-scope-commune-select`}
          >
            <option value="">{t('users.chooseCommune')}</option>
            {communes.map((commune) => (
              <option key={commune.id} value={commune.id}>
                {commune.province ? `${commune.name} (${commune.province})` : commune.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {value.kind === 'several' ? (
        <div className="checks">
          {communes.map((commune) => (
            <label key={commune.id}>
              <input
                type="checkbox"
                checked={value.communeIds.includes(commune.id)}
                onChange={(event) =>
                  set({
                    communeIds: event.target.checked
                      ? [...value.communeIds, commune.id]
                      : value.communeIds.filter((id) => id !== commune.id),
                  })
                }
                data-testid={`${prefix}-scope-commune-${commune.id}`}
              />
              {commune.name}
            </label>
          ))}
        </div>
      ) : null}
      {value.kind === 'province' ? (
        <label>
          {t('users.province')}
          <select
            required
            value={value.provinceId}
            onChange={(event) => set({ provinceId: event.target.value })}
            data-testid={`${prefix}-scope-province-select`}
          >
            <option value="">{t('users.chooseProvince')}</option>
            {provinces.map((province) => (
              <option key={province.id} value={province.id}>
                {province.name}
              </option>
            ))}
          </select>
          <span className="muted">{t('users.scopeProvinceHint')}</span>
        </label>
      ) : null}
    </fieldset>
  );
}
