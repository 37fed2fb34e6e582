/** OpenVEX 0.2.0 documents (https://github.com/openvex/spec): statements about products and vulnerabilities. */
import { WorkloadError } from './errors.js';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
export const VEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;

export interface VexStatement {
  vulnerability: { name: string; '@id'?: string };
  products: { '@id': string }[];
  status: VexStatus;
  justification?: (typeof VEX_JUSTIFICATIONS)[number];
  impact_statement?: string;
  action_statement?: string;
  timestamp?: string;
}

export interface OpenVexDocument {
  '@context': string;
  '@id': string;
  author: string;
  timestamp: string;
  version: number;
  statements: VexStatement[];
}

export function validateOpenVex(doc: unknown): OpenVexDocument {
  const fail = (field: string, message: string): never => {
    throw new WorkloadError('vex.invalid', `${field}: ${message}`, { field });
  };
  if (!doc || typeof doc !== 'object') fail('document', 'must be an OpenVEX JSON object');
  const d = doc as OpenVexDocument;
  if (typeof d['@context'] !== 'string' || !d['@context'].startsWith('https://openvex.dev/ns/')) fail('@context', 'must be an OpenVEX context URL');
  if (!Array.isArray(d.statements)) fail('statements', 'must be an array');
  d.statements.forEach((s, i) => {
    if (!s?.vulnerability?.name) fail(`statements[${i}].vulnerability.name`, 'is required');
    if (!['not_affected', 'affected', 'fixed', 'under_investigation'].includes(s.status)) fail(`statements[${i}].status`, `"${String(s.status)}" is not a VEX status`);
    if (s.status === 'not_affected' && !s.justification && !s.impact_statement) {
      fail(`statements[${i}].justification`, 'not_affected needs a justification or an impact statement');
    }
    if (!Array.isArray(s.products) || s.products.length === 0) fail(`statements[${i}].products`, 'must name at least one product');
  });
  return d;
}
