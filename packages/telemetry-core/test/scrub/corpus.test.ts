import { describe, expect, it } from 'vitest';
import { compileScrubPolicy, scrubText } from '../../src/scrub/index.js';
import { CORPUS_REPO_ROOT, negativeCorpus, positiveCorpus } from './corpus.js';

describe('labelled corpus', () => {
  const policy = compileScrubPolicy({ repoRoot: CORPUS_REPO_ROOT });
  const positives = positiveCorpus();
  const negatives = negativeCorpus();

  it('is large enough and deterministic', () => {
    expect(positives.length).toBeGreaterThanOrEqual(200);
    expect(negatives.length).toBeGreaterThanOrEqual(200);
    expect(positiveCorpus()).toEqual(positives);
    expect(negativeCorpus()).toEqual(negatives);
    expect(new Set(positives.map((p) => p.kind)).size).toBeGreaterThanOrEqual(15);
  });

  it('reaches recall ≥ 0.95 at precision ≥ 0.90', () => {
    const missed = positives.filter((p) => scrubText(p.line, policy).includes(p.secret));
    const falsePositives = negatives.filter((n) => scrubText(n.line, policy) !== n.line);
    const truePositives = positives.length - missed.length;
    const recall = truePositives / positives.length;
    const precision = truePositives / (truePositives + falsePositives.length);
    console.log(
      `scrubber corpus: ${positives.length} positive / ${negatives.length} negative lines; ` +
        `recall ${recall.toFixed(4)} (${missed.length} missed), precision ${precision.toFixed(4)} ` +
        `(${falsePositives.length} false positives)`,
    );
    for (const m of missed) console.log(`  missed [${m.kind}]${m.knownMiss ? ' (known blind spot)' : ''}: ${m.line}`);
    for (const f of falsePositives) console.log(`  false positive [${f.kind}]: ${f.line}`);
    // Only the documented blind spot may be missed.
    expect(missed.filter((m) => !m.knownMiss)).toEqual([]);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(precision).toBeGreaterThanOrEqual(0.9);
  });
});
