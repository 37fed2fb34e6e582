/**
 * `file:` exporter endpoints (the air-gap path): each export request is appended as one
 * line of OTLP/JSON — the format the OpenTelemetry Collector's file exporter writes and its
 * otlpjsonfile receiver reads — so a sealed site can carry telemetry out on media. The file
 * is rotated once at `maxBytes` (one previous generation kept as `<file>.1`).
 */
import { appendFile, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { BatchExporter } from './resilient-exporter.js';

export interface FileExporterOptions {
  /** Rotation size. Default 64 MiB. */
  maxBytes?: number;
}

export class OtlpJsonFileExporter<T> implements BatchExporter<T> {
  private readonly path: string;
  private readonly maxBytes: number;
  private size: number;

  constructor(
    url: string,
    private readonly serialize: (items: T[]) => Uint8Array | undefined,
    options: FileExporterOptions = {},
  ) {
    this.path = fileURLToPath(url);
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      this.size = statSync(this.path).size;
    } catch {
      this.size = 0;
    }
  }

  export(items: T[], resultCallback: (result: ExportResult) => void): void {
    let body: Uint8Array | undefined;
    try {
      body = this.serialize(items);
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err as Error });
      return;
    }
    if (!body) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    const line = Buffer.concat([Buffer.from(body), Buffer.from('\n')]);
    try {
      if (this.size > 0 && this.size + line.length > this.maxBytes) {
        renameSync(this.path, `${this.path}.1`);
        this.size = 0;
      }
    } catch {
      // Rotation failing leaves one larger file; better than losing the batch.
    }
    this.size += line.length;
    appendFile(this.path, line, (err) => {
      resultCallback(err ? { code: ExportResultCode.FAILED, error: err } : { code: ExportResultCode.SUCCESS });
    });
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}
