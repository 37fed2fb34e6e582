/**
 * Heavy dependencies are loaded on first use, not when a command group registers its commands:
 * `stella --help` and usage errors answer without loading the crypto libraries.
 */
import type * as Forensics from '@stellaops/forensics';
import type * as Jose from 'jose';

export const forensicsLib = (): Promise<typeof Forensics> => import('@stellaops/forensics');
export const joseLib = (): Promise<typeof Jose> => import('jose');
