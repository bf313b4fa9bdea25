import { describe, expect, it } from 'vitest';
import { convexHull, type LatLon, villageOutline } from '../../web/src/village-areas.js';

const metres = (a: LatLon, b: LatLon) => {
  const dLat = (a.lat - b.lat) * 111_320;
  const dLon = (a.lon - b.lon) * 111_320 * Math.cos((a.lat * Math.PI) / 180);
  return Math.hypot(dLat, dLon);
};

describe('village outlines', () => {
  it('keeps only the corners of a set of points', () => {
    const hull = convexHull([
      { lat: 0, lon: 0 },
      { lat: 0, lon: 2 },
      { lat: 2, lon: 2 },
      { lat: 2, lon: 0 },
      { lat: 1, lon: 1 },
    ]);
    expect(hull).toHaveLength(4);
    expect(hull).not.toContainEqual({ lat: 1, lon: 1 });
  });

  it('draws a circle of the margin around a lone cluster', () => {
    const cluster = { lat: 21.345, lon: 105.585 };
    const outline = villageOutline([cluster], 200);
    expect(outline.length).toBe(16);
    for (const point of outline) expect(metres(point, cluster)).toBeCloseTo(200, 0);
  });

  it('covers every cluster of a village with room to spare', () => {
    const clusters = [
      { lat: 21.345, lon: 105.585 },
      { lat: 21.3485, lon: 105.5878 },
      { lat: 21.347, lon: 105.583 },
    ];
    const outline = villageOutline(clusters, 100);
    // Every cluster lies left of each edge of the counter-clockwise outline, so inside it.
    for (const cluster of clusters) {
      for (let i = 0; i < outline.length; i++) {
        const a = outline[i] as LatLon;
        const b = outline[(i + 1) % outline.length] as LatLon;
        const side = (b.lon - a.lon) * (cluster.lat - a.lat) - (b.lat - a.lat) * (cluster.lon - a.lon);
        expect(side).toBeGreaterThan(0);
      }
    }
  });

  it('draws nothing for a village without located clusters', () => {
    expect(villageOutline([])).toEqual([]);
  });
});
