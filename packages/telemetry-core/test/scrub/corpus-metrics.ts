/**
 * Scores the scrubber on a labelled corpus: recall per class and overall, precision, and how
 * often the marker written names the expected class. Shared by the corpus test and
 * `npm run bench -- scrub`.
 */
import type { NegativeLine, PositiveLine } from './corpus.js';

export interface ClassScore {
  kind: string;
  total: number;
  /** Lines whose secret no longer appears. */
  caught: number;
  /** Caught lines whose output carries a marker of the expected class. */
  typed: number;
}

export interface CorpusScore {
  positives: number;
  negatives: number;
  caught: number;
  recall: number;
  /** True positives over true positives plus negatives changed in any way. */
  precision: number;
  /** Share of caught lines marked with the expected class. */
  typedRate: number;
  missed: PositiveLine[];
  falsePositives: NegativeLine[];
  perClass: ClassScore[];
}

export function scoreCorpus(positives: readonly PositiveLine[], negatives: readonly NegativeLine[], scrub: (text: string) => string): CorpusScore {
  const byKind = new Map<string, ClassScore>();
  const missed: PositiveLine[] = [];
  let caught = 0;
  let typed = 0;
  for (const p of positives) {
    let score = byKind.get(p.kind);
    if (score === undefined) byKind.set(p.kind, (score = { kind: p.kind, total: 0, caught: 0, typed: 0 }));
    score.total++;
    const out = scrub(p.line);
    if (out.includes(p.secret)) {
      missed.push(p);
      continue;
    }
    score.caught++;
    caught++;
    if (out.includes(`[REDACTED:${p.kind}`)) {
      score.typed++;
      typed++;
    }
  }
  const falsePositives = negatives.filter((n) => scrub(n.line) !== n.line);
  return {
    positives: positives.length,
    negatives: negatives.length,
    caught,
    recall: positives.length === 0 ? 0 : caught / positives.length,
    precision: caught + falsePositives.length === 0 ? 0 : caught / (caught + falsePositives.length),
    typedRate: caught === 0 ? 0 : typed / caught,
    missed,
    falsePositives,
    perClass: [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind)),
  };
}

const pct = (n: number, d: number): string => (d === 0 ? '   -  ' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);

/** A fixed-width table: one row per class, recall and typed-marker rate for each split. */
export function formatScores(splits: Record<string, CorpusScore>): string {
  const names = Object.keys(splits);
  const kinds = [...new Set(names.flatMap((n) => splits[n]!.perClass.map((c) => c.kind)))].sort();
  const head = `${'class'.padEnd(22)}${names.map((n) => `${`${n} n`.padStart(12)}${'recall'.padStart(9)}${'typed'.padStart(9)}`).join('')}`;
  const rows = kinds.map((kind) => {
    const cells = names.map((n) => {
      const c = splits[n]!.perClass.find((x) => x.kind === kind);
      return c === undefined ? `${'-'.padStart(12)}${'-'.padStart(9)}${'-'.padStart(9)}` : `${String(c.total).padStart(12)}${pct(c.caught, c.total).padStart(9)}${pct(c.typed, c.caught).padStart(9)}`;
    });
    return `${kind.padEnd(22)}${cells.join('')}`;
  });
  const totals = names.map((n) => {
    const s = splits[n]!;
    return `${n}: ${s.positives} positive / ${s.negatives} negative lines over ${s.perClass.length} classes; recall ${s.recall.toFixed(4)} (${s.missed.length} missed), precision ${s.precision.toFixed(4)} (${s.falsePositives.length} false positives), typed markers ${s.typedRate.toFixed(4)}`;
  });
  return [head, ...rows, '', ...totals].join('\n');
}
