/**
 * Exporter endpoints as the Collector writes them (`host:port`, `dns:///host:port`,
 * `http(s)://host:port/path`), and the two questions validation asks of them: is it loopback,
 * and is it on the allowlist. Nothing is resolved: validation gives the same answer on every
 * machine, so a host name other than `localhost` counts as leaving the host.
 */
import { isIP } from 'node:net';

export interface Endpoint {
  /** As written in the config. */
  raw: string;
  /** `http:`, `https:`, `grpc:`…; undefined for `host:port`. */
  scheme: string | undefined;
  /** Lower case, without IPv6 brackets. */
  host: string;
  /** Undefined when none is written. */
  port: string | undefined;
}

const HOST_PORT = /^(\[[^\]]+\]|[^:/[\]\s]+)(?::(\d{1,5}))?$/;

/** Reads an endpoint; undefined when it is none of the forms above. */
export function parseEndpoint(raw: string): Endpoint | undefined {
  const text = raw.trim();
  if (text === '' || /\s/.test(text)) return undefined;
  const dns = /^dns:\/\/[^/]*\/(.+)$/i.exec(text);
  if (dns) return hostPort(raw, dns[1]!, undefined);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return undefined;
    }
    if (url.hostname === '') return undefined;
    return { raw, scheme: url.protocol.toLowerCase(), host: bare(url.hostname), port: url.port === '' ? undefined : url.port };
  }
  return hostPort(raw, text, undefined);
}

function hostPort(raw: string, text: string, scheme: string | undefined): Endpoint | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const host = bare(m[1]!);
  if (m[1]!.startsWith('[') ? isIP(host) !== 6 : host.includes(':')) return undefined;
  return { raw, scheme, host, port: m[2] };
}

function bare(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
}

/** 127.0.0.0/8, ::1 (and IPv4-mapped loopback) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = bare(host);
  if (h === 'localhost') return true;
  const v = isIP(h);
  if (v === 4) return h.startsWith('127.');
  if (v === 6) {
    if (h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h)) return true;
    const mapped = /^(?:0{0,4}:){0,5}(?:::)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return mapped[1]!.startsWith('127.');
    const hex = /^(?:0{0,4}:){0,5}(?:::)?ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(h);
    return hex ? parseInt(hex[1]!, 16) >> 8 === 127 : false;
  }
  return false;
}

/**
 * Whether an allowlist entry names the endpoint. Entries take the telemetry policy's egress
 * forms — a host name or address, `host:port`, or an origin `scheme://host[:port]` — matched
 * exactly and case-insensitively. An origin entry matches an endpoint written without a scheme
 * (`tempo.corp:4317`) on host and port alone.
 */
export function allowlisted(endpoint: Endpoint, allowlist: readonly string[]): boolean {
  const host = endpoint.host;
  const hostPortText = endpoint.port === undefined ? undefined : `${host.includes(':') ? `[${host}]` : host}:${endpoint.port}`;
  return allowlist.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/\/+$/, '');
    if (e.includes('://')) {
      const origin = parseEndpoint(e);
      if (!origin || origin.host !== host || origin.port !== endpoint.port) return false;
      return endpoint.scheme === undefined || origin.scheme === endpoint.scheme;
    }
    if (bare(e) === host) return true;
    return hostPortText !== undefined && e === hostPortText;
  });
}
