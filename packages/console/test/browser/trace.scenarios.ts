/** Browser scenarios on the demo's data (see console-demo.test.ts). */
import type { DemoConsole } from './demo-console.js';

export function traceScenarios(demo: () => DemoConsole): void {
  void demo;
}
