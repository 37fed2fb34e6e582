/**
 * Regenerates the shipped SLO rules and their promtool tests from the shipped OpenSLO files:
 *
 *   npm run generate:slo-rules -w @stellaops/collector-config
 *
 * writes deploy/rules/slo-rules.yaml and deploy/rules/slo-rules.test.yaml from deploy/slo/.
 * A test regenerates them and compares bytes, so a change to an SLO without regenerating fails.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateSloRuleTests, generateSloRules, loadSlos } from '../src/index.ts';

export const SHIPPED_HEADER = 'Generated from deploy/slo by `npm run generate:slo-rules -w @stellaops/collector-config`: edit the SLOs, not this file.';
export const RULES_FILE = 'slo-rules.yaml';
export const TESTS_FILE = 'slo-rules.test.yaml';

/** The two shipped files' contents for the SLOs in `sloDir`. */
export async function shippedSloRuleFiles(sloDir: string): Promise<{ rules: string; tests: string }> {
  const slos = await loadSlos(sloDir);
  return {
    rules: generateSloRules(slos, { header: SHIPPED_HEADER }),
    tests: generateSloRuleTests(slos, { header: SHIPPED_HEADER, ruleFiles: [RULES_FILE] }),
  };
}

async function main(sloDir: string, rulesDir: string): Promise<void> {
  const { rules, tests } = await shippedSloRuleFiles(sloDir);
  await mkdir(rulesDir, { recursive: true });
  await writeFile(join(rulesDir, RULES_FILE), rules);
  await writeFile(join(rulesDir, TESTS_FILE), tests);
  console.log(`wrote ${join(rulesDir, RULES_FILE)} and ${join(rulesDir, TESTS_FILE)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [sloDir, rulesDir] = process.argv.slice(2);
  if (!sloDir || !rulesDir) {
    console.error('usage: generate-slo-rules <OpenSLO file or directory> <rules directory>');
    process.exit(2);
  }
  main(sloDir, rulesDir).catch((e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
