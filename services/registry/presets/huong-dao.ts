import type { ClusterCreate, CommuneCreate, VillageCreate } from '../../../contracts/registry.js';

/*
 * Hướng Đạo commune, formerly of Tam Dương district, Vĩnh Phúc province — since 1 July 2025 in
 * the province of Phú Thọ (which took in Vĩnh Phúc): the reference site, 14 villages (thôn), 18
 * speaker clusters, 2 speakers each. Its commune code stays blank: the national list of 1 July 2025
 * has no unit named Hướng Đạo. Resolution 1676/NQ-UBTVQH15 (Article 1, clause 71) merged it with
 * the towns of Hợp Hòa and Kim Long and the commune of Đạo Tú into the new commune of Tam Dương
 * (code 08869); whether this platform's commune record becomes Tam Dương is the commune's decision,
 * not the preset's.
 *
 * PLACEHOLDERS: the village names below ("Thôn 1" … "Thôn 14") are not the real names of Hướng
 * Đạo's villages; every village carries namePlaceholder: true until the commune enters its own.
 * Coordinates are plausible positions spread over the commune's area (around 21.345 N, 105.585 E),
 * not surveyed installation points.
 */

export const HUONG_DAO_COMMUNE = {
  id: 'huong-dao',
  name: 'Hướng Đạo',
  provinceId: 'phu-tho',
  district: 'Tam Dương',
  timezone: 'Asia/Ho_Chi_Minh',
} satisfies CommuneCreate;

const VILLAGE_COUNT = 14;
/** Villages big enough for a second cluster, so 14 villages hold 18 clusters. */
const TWO_CLUSTER_VILLAGES = new Set([1, 4, 8, 11]);

const CENTER = { lat: 21.345, lon: 105.585 };

export const HUONG_DAO_VILLAGES: VillageCreate[] = Array.from({ length: VILLAGE_COUNT }, (_, i) => ({
  id: `hd-thon-${String(i + 1).padStart(2, '0')}`,
  communeId: HUONG_DAO_COMMUNE.id,
  name: `Thôn ${i + 1}`,
  namePlaceholder: true,
}));

function villageLocation(index: number): { lat: number; lon: number } {
  // Villages on two rings around the commune centre, roughly 1-2.5 km out.
  const ring = index % 2 === 0 ? 0.012 : 0.022;
  const angle = (index / VILLAGE_COUNT) * 2 * Math.PI;
  return { lat: CENTER.lat + ring * Math.sin(angle), lon: CENTER.lon + ring * Math.cos(angle) };
}

export const HUONG_DAO_CLUSTERS: ClusterCreate[] = HUONG_DAO_VILLAGES.flatMap((village, i) => {
  const count = TWO_CLUSTER_VILLAGES.has(i + 1) ? 2 : 1;
  const base = villageLocation(i);
  return Array.from({ length: count }, (_, k) => ({
    villageId: village.id as string,
    name: count === 1 ? `Cụm loa ${village.name}` : `Cụm loa ${village.name} — điểm ${k + 1}`,
    address: k === 0 ? `Nhà văn hoá ${village.name}, xã Hướng Đạo` : `Ngã ba ${village.name}, xã Hướng Đạo`,
    location: {
      lat: Number((base.lat + k * 0.0035).toFixed(6)),
      lon: Number((base.lon + k * 0.0028).toFixed(6)),
    },
    speakers: [
      { idx: 1, label: 'Loa 1' },
      { idx: 2, label: 'Loa 2' },
    ],
  }));
}).map((cluster, n) => ({ ...cluster, id: `hd-c${String(n + 1).padStart(2, '0')}` }));
