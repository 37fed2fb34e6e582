/**
 * Reading OpenSLO YAML: one file holding one or more documents, or a directory of such files
 * (`*.yaml`, `*.yml`, not recursive, in name order). The result is sorted by SLO name, so the
 * rules do not depend on how the SLOs are spread over files.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { SloError } from './errors.js';
import { collectSlos, sloFromDocument, type Slo } from './openslo.js';

function lineFinder(doc: Document, lines: LineCounter): (path: readonly (string | number)[]) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let offset = isNode(node) ? node.range?.[0] : undefined;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        if (!pair) break;
        offset = isNode(pair.key) ? pair.key.range?.[0] : offset;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        if (isNode(node)) offset = node.range?.[0] ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
}

/** SLOs from the text of one YAML file (several documents allowed; empty documents skipped). */
export function parseSlos(text: string, source?: string): Slo[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return []; // An empty stream.
  const out: Slo[] = [];
  docs.forEach((doc, i) => {
    const where = source === undefined ? `document ${i + 1}` : `${source}#${i + 1}`;
    const error = doc.errors[0];
    if (error) {
      throw new SloError('slo.invalid', `not valid YAML: ${error.message.split('\n')[0]}`, { source: where, line: lines.linePos(error.pos[0]).line, cause: error });
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    out.push(sloFromDocument(doc.toJS() as unknown, { source: where, lineOf: lineFinder(doc, lines) }));
  });
  return collectSlos(out);
}

/** Loads the SLOs of a YAML file, or of every `*.yaml`/`*.yml` file in a directory. */
export async function loadSlos(pathOrDir: string): Promise<Slo[]> {
  let files: string[];
  try {
    const info = await stat(pathOrDir);
    if (info.isDirectory()) {
      const entries = await readdir(pathOrDir, { withFileTypes: true });
      files = entries
        .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
        .map((e) => e.name)
        .sort()
        .map((name) => join(pathOrDir, name));
      if (files.length === 0) throw new SloError('slo.io', `${pathOrDir} holds no .yaml or .yml file`, { source: pathOrDir });
    } else {
      files = [pathOrDir];
    }
  } catch (e) {
    if (e instanceof SloError) throw e;
    throw new SloError('slo.io', `cannot read ${pathOrDir}: ${(e as Error).message}`, { source: pathOrDir, cause: e });
  }
  const slos: Slo[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new SloError('slo.io', `cannot read ${file}: ${(e as Error).message}`, { source: file, cause: e });
    }
    slos.push(...parseSlos(text, file));
  }
  return collectSlos(slos);
}
