/** Outlines of villages drawn from where their clusters stand, for a map without a base layer. */

export interface LatLon {
  lat: number;
  lon: number;
}

const METRES_PER_DEGREE = 111_320;

function cross(o: LatLon, a: LatLon, b: LatLon): number {
  return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

/** Andrew's monotone chain: the convex hull, counter-clockwise, without repeated points. */
export function convexHull(points: readonly LatLon[]): LatLon[] {
  const sorted = [...points].sort((a, b) => a.lon - b.lon || a.lat - b.lat);
  if (sorted.length <= 2) return sorted;
  const lower: LatLon[] = [];
  for (const p of sorted) {
    while (
      lower.length >= 2 &&
      cross(lower[lower.length - 2] as LatLon, lower[lower.length - 1] as LatLon, p) <= 0
    )
      lower.pop();
    lower.push(p);
  }
  const upper: LatLon[] = [];
  for (const p of sorted.reverse()) {
    while (
      upper.length >= 2 &&
      cross(upper[upper.length - 2] as LatLon, upper[upper.length - 1] as LatLon, p) <= 0
    )
      upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * The area a village's clusters cover, widened by `marginM` metres all round: the hull of a ring
 * of points around each cluster, so one cluster gives a circle and two give a rounded band.
 */
export function villageOutline(points: readonly LatLon[], marginM = 250, steps = 16): LatLon[] {
  const ring: LatLon[] = [];
  for (const p of points) {
    const dLat = marginM / METRES_PER_DEGREE;
    const dLon = marginM / (METRES_PER_DEGREE * Math.max(0.01, Math.cos((p.lat * Math.PI) / 180)));
    for (let i = 0; i < steps; i++) {
      const angle = (2 * Math.PI * i) / steps;
      ring.push({ lat: p.lat + dLat * Math.sin(angle), lon: p.lon + dLon * Math.cos(angle) });
    }
  }
  return convexHull(ring);
}
