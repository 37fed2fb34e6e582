/**
 * Incident modes polled from the Observability service's `GET /telemetry/incidents/mode`.
 * Polling (default every 2 s) keeps "within seconds, without restart" true without a bus;
 * the bus subscriber arrives with the service. On a failed poll the last known set stays in
 * force — each entry still lapses at its own `expires_at`.
 */
import { PollLoop } from '../poll-loop.js';
import { parseIncidentModeDocument, type IncidentMode, type IncidentModeSource } from './incident-mode.js';

export interface HttpIncidentModeSourceOptions {
  /** Base URL of the Observability service (`/telemetry/incidents/mode` is appended) or the full URL. */
  url: string;
  /** Poll interval. Default 2000 ms. */
  intervalMs?: number;
  /** Per-request timeout. Default 1500 ms. */
  timeoutMs?: number;
  /** Extra request headers (e.g. an authorization token). Default none. */
  headers?: Record<string, string>;
  /** Called with each failed poll (network error, non-2xx, malformed body). Default: ignored. */
  onError?: (error: Error) => void;
  /** `fetch` implementation; injectable for tests. Default: global fetch. */
  fetch?: typeof fetch;
}

export const INCIDENT_MODE_PATH = '/telemetry/incidents/mode';

export class HttpIncidentModeSource implements IncidentModeSource {
  private readonly url: string;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly listeners = new Set<(modes: readonly IncidentMode[]) => void>();
  private last: IncidentMode[] = [];
  private lastBody = '';
  private readonly loop: PollLoop;

  constructor(private readonly options: HttpIncidentModeSourceOptions) {
    this.url = options.url.includes(INCIDENT_MODE_PATH) ? options.url : `${options.url.replace(/\/+$/, '')}${INCIDENT_MODE_PATH}`;
    this.intervalMs = options.intervalMs ?? 2000;
    this.timeoutMs = options.timeoutMs ?? 1500;
    this.loop = new PollLoop(this.intervalMs, () => this.poll(), () => this.listeners.size > 0);
  }

  subscribe(listener: (modes: readonly IncidentMode[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.last);
    this.loop.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.loop.stop();
    };
  }

  /** Polls once now; resolves when the result (or failure) has been applied. */
  pollNow(): Promise<void> {
    return this.loop.pollNow();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.loop.close();
  }

  private async poll(): Promise<void> {
    try {
      const response = await (this.options.fetch ?? fetch)(this.url, {
        headers: { accept: 'application/json', ...this.options.headers },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`incident mode poll: HTTP ${response.status}`);
      if (text === this.lastBody) return;
      const modes = parseIncidentModeDocument(JSON.parse(text));
      this.lastBody = text;
      this.last = modes;
      for (const l of this.listeners) l(modes);
    } catch (err) {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
