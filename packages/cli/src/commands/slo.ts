/**
 * `stella slo rules` — OpenSLO v1 SLOs (a file of YAML documents, or a directory of them) to
 * Prometheus recording and alert rules by the multiwindow, multi-burn-rate method, and
 * optionally the `promtool test rules` file that proves them. Offline: it reads and writes
 * files only. The output is deterministic (the same SLOs give the same bytes), so generated
 * files can be committed and checked.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { collectorConfigLib } from '../lazy.js';
import { CliError, EXIT, type CommandResult } from '../output.js';

/** Writes `text` to `path` whole or not at all (a temporary file beside it, renamed into place). */
async function writeWhole(path: string, text: string): Promise<void> {
  const temp = `${path}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
    await rename(temp, path);
  } catch (cause) {
    await rm(temp, { force: true });
    throw new CliError('write_failed', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

export function registerSlo(program: Command, ctx: CommandContext): void {
  const slo = program.command('slo').description('service level objectives: OpenSLO files to Prometheus rules');
  ctx.action(
    slo
      .command('rules')
      .description('generate recording and alert rules (SLOErrorBudgetBurn per window pair, SLONoData) from OpenSLO v1 SLOs; overwrites --out and --tests')
      .requiredOption('--in <file|dir>', 'an OpenSLO YAML file (several documents allowed) or a directory of *.yaml / *.yml files')
      .requiredOption('--out <rules.yaml>', 'where to write the Prometheus rule file')
      .option('--tests <file>', 'also write a `promtool test rules` file for the generated rules')
      .addHelpText('after', '\nExample:\n  stella slo rules --in deploy/slo --out slo-rules.yaml --tests slo-rules.test.yaml\n  promtool check rules slo-rules.yaml && promtool test rules slo-rules.test.yaml'),
    async (_args, opts: { in: string; out: string; tests?: string }): Promise<CommandResult> => {
      const { loadSlos, generateSloRules, generateSloRuleTests, SloError } = await collectorConfigLib();
      const source = ctx.path(opts.in);
      const out = ctx.path(opts.out);
      let slos;
      try {
        slos = await loadSlos(source);
      } catch (error) {
        if (error instanceof SloError) throw new CliError(error.code, error.message, { cause: error });
        throw error;
      }
      if (slos.length === 0) throw new CliError('slo.invalid', `${opts.in} holds no SLO (kind: SLO, apiVersion: openslo/v1)`);
      await writeWhole(out, generateSloRules(slos));
      const tests = opts.tests ? ctx.path(opts.tests) : undefined;
      if (tests) await writeWhole(tests, generateSloRuleTests(slos, { ruleFiles: [relative(dirname(tests), out) || '.'] }));
      const names = slos.map((s) => s.name);
      return {
        exitCode: EXIT.ok,
        json: { ok: true, slos: names, rules: out, tests: tests ?? null },
        human: `${names.length} SLO${names.length === 1 ? '' : 's'} (${names.join(', ')}) → ${opts.out}${opts.tests ? ` and ${opts.tests}` : ''}`,
      };
    },
  );
}
