/**
 * OTLP/gRPC (STO-2) on its own port (4317) with `@grpc/grpc-js`. The three Export methods are
 * registered with pass-through (de)serializers, so the request bytes reach the same pipeline as
 * OTLP/HTTP protobuf unchanged (request-pipeline.ts: census, prepare, store). grpc-js has
 * already undone `grpc-encoding: gzip` within the message size limit and hands over the whole
 * message: its length is what the request holds in the shared memory budget, before the
 * decoded size its census predicts. Bearer token and tenant come from the call metadata;
 * refusals are mapped through the error catalogue (errors.ts, via `toOtlpError`) to their gRPC
 * status and carry their code in the `x-stella-error-code` trailer (and `retry-after` when retryable).
 */
import { Metadata, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '@stellaops/telemetry-core';
import type { OtlpAuthenticator } from './otlp-auth.js';
import { toOtlpError } from './otlp-error.js';
import type { InflightBudget } from './inflight-budget.js';
import type { RequestPipeline } from './request-pipeline.js';
import { encodeResponse, GRPC_PATHS } from './otlp-proto.js';
import { SIGNALS, type Signal } from '../segments/signal-records.js';

export interface OtlpGrpcReceiverOptions {
  pipeline: RequestPipeline;
  auth: OtlpAuthenticator;
  logger: Logger;
  /** Largest message after grpc-js has decompressed it. */
  maxMessageBytes: number;
  /** Memory held by requests in progress (shared with OTLP/HTTP). */
  budget: InflightBudget;
}

const passThrough = (b: Buffer): Buffer => b;

function firstString(metadata: Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return v === undefined ? undefined : String(v);
}

export class OtlpGrpcReceiver {
  private server: Server | undefined;

  constructor(private readonly options: OtlpGrpcReceiverOptions) {}

  async listen(port: number, host: string): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': this.options.maxMessageBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    for (const signal of SIGNALS) {
      const definition = {
        Export: {
          path: GRPC_PATHS[signal],
          requestStream: false,
          responseStream: false,
          requestSerialize: passThrough,
          requestDeserialize: passThrough,
          responseSerialize: passThrough,
          responseDeserialize: passThrough,
        },
      };
      const implementation: UntypedServiceImplementation = {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
          // export() answers every failure itself; anything escaping it is a defect: logged and counted.
          this.export(signal, call, callback).catch((error: unknown) => {
            this.options.logger.error({ err: error, route: GRPC_PATHS[signal] }, 'OTLP gRPC handler failed unexpectedly');
            this.options.pipeline.countRefusal(signal, error);
          });
        },
      };
      server.addService(definition, implementation);
    }
    this.server = server;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 5000);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async export(signal: Signal, call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> {
    const { pipeline } = this.options;
    const reservation = this.options.budget.open();
    let tenant: string | undefined;
    try {
      // grpc-js already holds the decompressed message: account for it first.
      reservation.add(call.request.length);
      const caller = await this.options.auth.authenticate(firstString(call.metadata, 'authorization'), firstString(call.metadata, 'x-stella-tenant'), GRPC_PATHS[signal]);
      tenant = caller.tenant;
      const result = await pipeline.process(caller.tenant, signal, call.request, 'protobuf', reservation);
      callback(null, Buffer.from(encodeResponse(signal, result.rejected, result.message)));
    } catch (error) {
      const e = toOtlpError(error);
      if (e.code === 'otlp.internal') this.options.logger.error({ err: error, route: GRPC_PATHS[signal] }, 'OTLP gRPC request failed');
      pipeline.countRefusal(signal, error, tenant);
      const trailer = new Metadata();
      trailer.set('x-stella-error-code', e.code);
      if (e.retryAfterSeconds !== undefined) trailer.set('retry-after', String(e.retryAfterSeconds));
      callback({ code: e.grpcCode, details: e.message, metadata: trailer });
    } finally {
      reservation.release();
    }
  }
}
