import type { ClusterCreate, CommuneCreate, VillageCreate } from '../../../contracts/registry.js';

/*
 * The other pilot communes named with Hướng Đạo in the reports on Vĩnh Phúc's smart radio —
 * Lãng Công, Thổ Tang and Tam Đảo, in the province of Phú Thọ since 1 July 2025 — so the
 * province's view has more than one commune to show.
 *
 * Codes from the national list of 1 July 2025 (services/registry/administrative-units.json.gz):
 * Thổ Tang (09112) and Tam Đảo (08911) are communes of Phú Thọ under their own names; Lãng Công
 * was merged with Quang Yên into the commune of Yên Lãng (08773) and has no code of its own, so
 * it keeps none here.
 *
 * ILLUSTRATIVE: these fleets are made up. Each commune gets two villages of two clusters, placed
 * near the commune's rough position; village and cluster names say "minh hoạ" (illustrative) and
 * villages are marked namePlaceholder. Nothing here describes the communes' real installations.
 */

interface Pilot {
  commune: CommuneCreate & { id: string };
  prefix: string;
  center: { lat: number; lon: number };
}

const PILOTS: Pilot[] = [
  {
    commune: { id: 'lang-cong', name: 'Lãng Công', provinceId: 'phu-tho', district: 'Sông Lô' },
    prefix: 'lc',
    center: { lat: 21.43, lon: 105.45 },
  },
  {
    commune: {
      id: 'tho-tang',
      name: 'Thổ Tang',
      code: '09112',
      provinceId: 'phu-tho',
      district: 'Vĩnh Tường',
    },
    prefix: 'tt',
    center: { lat: 21.24, lon: 105.5 },
  },
  {
    commune: { id: 'tam-dao', name: 'Tam Đảo', code: '08911', provinceId: 'phu-tho', district: 'Tam Đảo' },
    prefix: 'td',
    center: { lat: 21.46, lon: 105.64 },
  },
];

export const PILOT_COMMUNES: CommuneCreate[] = PILOTS.map((p) => p.commune);

export const PILOT_VILLAGES: VillageCreate[] = PILOTS.flatMap((p) =>
  [1, 2].map((n) => ({
    id: `${p.prefix}-thon-${n}`,
    communeId: p.commune.id,
    name: `Thôn ${n} (minh hoạ)`,
    namePlaceholder: true,
  })),
);

export const PILOT_CLUSTERS: ClusterCreate[] = PILOTS.flatMap((p) =>
  [1, 2].flatMap((village) =>
    [1, 2].map((k) => ({
      id: `${p.prefix}-c${village}${k}`,
      villageId: `${p.prefix}-thon-${village}`,
      name: `Cụm loa thôn ${village} — điểm ${k} (minh hoạ)`,
      address: `Xã ${p.commune.name} (vị trí minh hoạ)`,
      location: {
        lat: Number((p.center.lat + (village - 1.5) * 0.01 + k * 0.002).toFixed(6)),
        lon: Number((p.center.lon + (village - 1.5) * 0.012 - k * 0.002).toFixed(6)),
      },
      speakers: [
        { idx: 1, label: 'Loa 1' },
        { idx: 2, label: 'Loa 2' },
      ],
    })),
  ),
);
