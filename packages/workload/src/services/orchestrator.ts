/**
 * orchestrator: schedules jobs. The payload carries the scheduling request's trace context
 * (serializeJobContext), so the runner continues the same trace; each state the runner
 * reports becomes a `job.*` timeline event.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { currentContext, observeQueueDepth, serializeJobContext, withSpan } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import { JOB_TYPES, type JobPayload, type JobRecord, type JobState, type JobType } from './jobs.js';
import type { WorkloadRuntime } from './service-host.js';
import { TenantStore } from './tenant-store.js';

export function registerOrchestrator(app: FastifyInstance, rt: WorkloadRuntime): void {
  const jobs = new TenantStore<JobRecord>();
  let queued = 0;
  observeQueueDepth('orchestrator.jobs', () => queued);

  app.post<{ Body: { type?: string; params?: Record<string, unknown> } }>('/jobs', async (request, reply) => {
    const tenant = currentContext().tenant_id!;
    const { type, params } = request.body ?? {};
    if (!JOB_TYPES.includes(type as JobType)) throw new WorkloadError('job.invalid', `type must be one of ${JOB_TYPES.join(', ')}`, { field: 'body.type' });
    if (!params || typeof params !== 'object') throw new WorkloadError('job.invalid', 'params must be an object', { field: 'body.params' });
    const jobId = `job-${randomUUID().slice(0, 13)}`;
    const record = await withSpan('orchestrator.schedule', { 'stella.job.type': type! }, async () => {
      // The job's own context: request-scoped fields (route, request id) stay with the request.
      const { route: _r, method: _m, request_id: _q, ...telemetry } = serializeJobContext();
      const payload: JobPayload = { job_id: jobId, type: type as JobType, params: params as never, telemetry };
      const rec: JobRecord = { job_id: jobId, type: type as JobType, tenant_id: tenant, state: 'queued', trace_id: currentContext().trace_id ?? null, scheduled_at: new Date().toISOString(), result: null, error: null, attestation_id: null };
      jobs.set(tenant, jobId, rec);
      queued++;
      rt.logger.info({ job_id: jobId, resource: 'job', action: 'schedule', details: { type } }, 'job scheduled');
      await rt.stella.emit({ kind: 'job.scheduled', resource_type: 'job', resource_id: jobId, details: { type, params } });
      await rt.call('task-runner', '/executions', { body: payload });
      return rec;
    }, { fields: { job_id: jobId } });
    return reply.code(202).send({ job_id: record.job_id, state: record.state, trace_id: record.trace_id });
  });

  app.post<{ Params: { job_id: string }; Body: { state?: JobState; result?: Record<string, unknown>; error?: { code: string; message: string }; attestation_id?: string } }>('/jobs/:job_id/state', async (request) => {
    const tenant = currentContext().tenant_id!;
    const rec = jobs.get(tenant, request.params.job_id);
    if (!rec) throw new WorkloadError('job.not_found', `no job ${request.params.job_id} in this tenant`, { field: 'params.job_id' });
    const { state, result, error, attestation_id } = request.body ?? {};
    if (state !== 'started' && state !== 'finished' && state !== 'failed') throw new WorkloadError('job.invalid', 'state must be started, finished or failed', { field: 'body.state' });
    if (rec.state === 'queued') queued--;
    rec.state = state;
    if (result) rec.result = result;
    if (typeof attestation_id === 'string') rec.attestation_id = attestation_id;
    if (error) rec.error = { code: String(error.code), message: String(error.message).slice(0, 500) };
    const log = state === 'failed' ? rt.logger.error.bind(rt.logger) : rt.logger.info.bind(rt.logger);
    log({ job_id: rec.job_id, resource: 'job', action: state, ...(rec.error ? { error_code: rec.error.code, error_message: rec.error.message } : {}) }, `job ${state}`);
    await rt.stella.emit({
      kind: `job.${state}`,
      resource_type: 'job',
      resource_id: rec.job_id,
      details: { type: rec.type, ...(state === 'finished' && result ? { result } : {}), ...(rec.attestation_id ? { attestation_id: rec.attestation_id } : {}), ...(rec.error ? { error_code: rec.error.code, error_message: rec.error.message } : {}) },
    });
    return { job_id: rec.job_id, state: rec.state };
  });

  app.get<{ Params: { job_id: string } }>('/jobs/:job_id', async (request) => {
    const rec = jobs.get(currentContext().tenant_id!, request.params.job_id);
    if (!rec) throw new WorkloadError('job.not_found', `no job ${request.params.job_id} in this tenant`, { field: 'params.job_id' });
    return rec;
  });
}
