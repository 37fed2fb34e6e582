/** CycloneDX 1.5/1.6 JSON, the parts an SBOM ingest reads (components with purls, dependencies). */
import { WorkloadError } from './errors.js';

export interface CdxComponent {
  type: string;
  'bom-ref'?: string;
  group?: string;
  name: string;
  version?: string;
  purl?: string;
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
  hashes?: { alg: string; content: string }[];
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber?: string;
  version: number;
  metadata?: { timestamp?: string; component?: CdxComponent; tools?: unknown };
  components?: CdxComponent[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
}

/** A component as the pipeline sees it: identified by its package URL. */
export interface Component {
  purl: string;
  ecosystem: string;
  name: string;
  version: string;
}

const PURL = /^pkg:([a-z0-9.+-]+)\/(.+)@([^?#]+)(?:[?#].*)?$/;

/** Splits `pkg:npm/%40scope/name@1.2.3` into ecosystem, decoded name and version. */
export function parsePurl(purl: string): Component | undefined {
  const m = PURL.exec(purl);
  if (!m) return undefined;
  return { purl, ecosystem: m[1]!, name: decodeURIComponent(m[2]!), version: decodeURIComponent(m[3]!) };
}

/** Validates the document shape and returns its components; errors name the field. */
export function readCycloneDx(doc: unknown): { bom: CycloneDxBom; components: Component[] } {
  const fail = (field: string, message: string): never => {
    throw new WorkloadError('sbom.invalid', `${field}: ${message}`, { field });
  };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail('body', 'must be a CycloneDX JSON object');
  const bom = doc as CycloneDxBom;
  if (bom.bomFormat !== 'CycloneDX') fail('bomFormat', 'must be "CycloneDX"');
  if (!['1.5', '1.6'].includes(bom.specVersion)) fail('specVersion', `"${String(bom.specVersion)}" is not supported; send CycloneDX 1.5 or 1.6`);
  if (!Array.isArray(bom.components)) fail('components', 'must be an array');
  const components: Component[] = [];
  bom.components!.forEach((c, i) => {
    if (!c || typeof c.name !== 'string') fail(`components[${i}].name`, 'is required');
    if (c.purl === undefined) return; // components without a purl cannot be matched; they are counted, not linked
    const parsed = parsePurl(c.purl);
    if (!parsed) fail(`components[${i}].purl`, `"${c.purl}" is not a package URL`);
    components.push(parsed!);
  });
  return { bom, components };
}
