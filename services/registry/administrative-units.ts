import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { AdministrativeUnit, AdministrativeUnitType } from '../../contracts/registry.js';

const FILE = 'administrative-units.json.gz';

/** The shipped file, as scripts/administrative-units.mjs writes it. */
interface CatalogueFile {
  source: string;
  licence: string;
  effective: string;
  provinces: { code: string; name: string; units: [code: string, name: string][] }[];
}

/** How each unit's official name begins: xã (commune), phường (ward), đặc khu (special zone). */
const PREFIXES: readonly [string, AdministrativeUnitType][] = [
  ['Xã ', 'commune'],
  ['Phường ', 'ward'],
  ['Đặc khu ', 'special-zone'],
];

/** Lower-case without diacritics, đ as d: "Hướng Đạo" and "huong dao" search alike. */
export function foldVietnamese(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

interface Entry {
  unit: AdministrativeUnit;
  /** The full name ("Xã Tam Dương") and the name ("Tam Dương"), folded. */
  folded: string;
  foldedName: string;
}

/**
 * The national list of commune-level administrative units after the arrangement of 1 July 2025
 * (mã đơn vị hành chính cấp xã, Official Letter 1027/CTK-CSCL of the General Statistics Office):
 * 3,321 communes, wards and special zones, each with its five-digit code and its province's
 * two-digit code. Read once from the file shipped beside this module; read-only.
 */
export class AdministrativeUnitCatalogue {
  private readonly byCode = new Map<string, AdministrativeUnit>();
  private readonly byProvince = new Map<string, Entry[]>();
  private readonly collator = new Intl.Collator('vi');

  constructor(
    file: CatalogueFile,
    /** Where the list comes from and under which licence, for the docs and the API description. */
    readonly source = file.source,
    readonly licence = file.licence,
  ) {
    for (const province of file.provinces) {
      const entries: Entry[] = [];
      for (const [code, fullName] of province.units) {
        const prefix = PREFIXES.find(([p]) => fullName.startsWith(p));
        if (!prefix || !/^\d{5}$/.test(code) || this.byCode.has(code))
          throw new Error(`administrative unit catalogue: bad or repeated entry ${code} "${fullName}"`);
        const unit: AdministrativeUnit = {
          code,
          name: fullName.slice(prefix[0].length),
          fullName,
          type: prefix[1],
          provinceCode: province.code,
          provinceName: province.name,
        };
        this.byCode.set(code, unit);
        entries.push({ unit, folded: foldVietnamese(fullName), foldedName: foldVietnamese(unit.name) });
      }
      entries.sort(
        (a, b) => this.collator.compare(a.unit.name, b.unit.name) || a.unit.code.localeCompare(b.unit.code),
      );
      this.byProvince.set(province.code, entries);
    }
  }

  /** The catalogue shipped with the platform. */
  static shipped(): AdministrativeUnitCatalogue {
    const path = shippedPath();
    if (!existsSync(path))
      throw new Error(
        `the national list of administrative units is missing: ${path} (copy it with the build)`,
      );
    const raw = gunzipSync(readFileSync(path));
    return new AdministrativeUnitCatalogue(JSON.parse(raw.toString('utf8')) as CatalogueFile);
  }

  get size(): number {
    return this.byCode.size;
  }

  /** The province codes the list covers, with their official names. */
  provinces(): { code: string; name: string }[] {
    return [...this.byProvince.entries()].map(([code, entries]) => ({
      code,
      name: entries[0]?.unit.provinceName ?? code,
    }));
  }

  get(code: string): AdministrativeUnit | null {
    return this.byCode.get(code) ?? null;
  }

  /**
   * Units of these provinces (null: every province) whose name or code matches `q`, without
   * regard to diacritics or case: names that begin with it first, then names that contain it,
   * each in Vietnamese alphabetical order.
   */
  search(
    filter: { provinceCodes: readonly string[] | null; q?: string | undefined },
    page: { limit: number; offset: number },
  ): { items: AdministrativeUnit[]; total: number } {
    const codes = filter.provinceCodes ?? [...this.byProvince.keys()];
    const q = foldVietnamese(filter.q ?? '');
    const starts: AdministrativeUnit[] = [];
    const contains: AdministrativeUnit[] = [];
    for (const code of codes) {
      for (const { unit, folded, foldedName } of this.byProvince.get(code) ?? []) {
        if (q === '' || unit.code.startsWith(q) || foldedName.startsWith(q) || folded.startsWith(q))
          starts.push(unit);
        else if (folded.includes(q)) contains.push(unit);
      }
    }
    const all = [...starts, ...contains];
    return { items: all.slice(page.offset, page.offset + page.limit), total: all.length };
  }
}

/** Beside this module in the source tree; compiled to dist/services/registry/, the file stays in the source tree. */
function shippedPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, FILE);
  if (existsSync(beside)) return beside;
  return join(here, '..', '..', '..', 'services', 'registry', FILE);
}
