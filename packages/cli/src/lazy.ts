/**
 * Heavy dependencies are loaded on first use, not when a command group registers its commands:
 * `stella --help` and usage errors answer without loading the crypto libraries, protobufjs or YAML.
 */
import type * as CollectorConfig from '@stellaops/collector-config';
import type * as Forensics from '@stellaops/forensics';
import type * as Jose from 'jose';
import type * as OtlpReplay from './otlp-replay.js';

export const collectorConfigLib = (): Promise<typeof CollectorConfig> => import('@stellaops/collector-config');
export const forensicsLib = (): Promise<typeof Forensics> => import('@stellaops/forensics');
export const joseLib = (): Promise<typeof Jose> => import('jose');
export const otlpReplayLib = (): Promise<typeof OtlpReplay> => import('./otlp-replay.js');
