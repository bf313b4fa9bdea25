// Rebuilds services/registry/administrative-units.json.gz, the catalogue of the communes, wards
// and special zones after the 1 July 2025 arrangement, from the dvhcvn/20250701 repository (MIT):
//   node scripts/administrative-units.mjs <checkout of github.com/dvhcvn/20250701> [commit]
// Its mapping/merges.json lists the 34 provinces (Official Letter 915/CTK-CSCL) and the 3,321
// units with their codes (Official Letter 1027/CTK-CSCL of 25 June 2025).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const [checkout, commit = 'unknown'] = process.argv.slice(2);
if (!checkout) {
  process.stderr.write('usage: node scripts/administrative-units.mjs <dvhcvn/20250701 checkout> [commit]\n');
  process.exit(2);
}
const merges = JSON.parse(readFileSync(join(checkout, 'mapping', 'merges.json'), 'utf8'));
const catalogue = {
  source: `https://github.com/dvhcvn/20250701 (mapping/merges.json, commit ${commit})`,
  licence: 'MIT, Copyright (c) 2025 dvhcvn',
  effective: '2025-07-01',
  provinces: merges.data.map((p) => ({
    code: p.level1_id,
    name: p.name,
    units: p.level2s.map((u) => [u.level2_id, u.name]),
  })),
};
const out = join(import.meta.dirname, '..', 'services', 'registry', 'administrative-units.json.gz');
writeFileSync(out, gzipSync(JSON.stringify(catalogue), { level: 9 }));
const units = catalogue.provinces.reduce((n, p) => n + p.units.length, 0);
process.stdout.write(`${catalogue.provinces.length} provinces, ${units} units → ${out}\n`);
