/**
 * The DORA API:
 * - `POST /dora/deployments` records a deployment (201; 200 when the same record was recorded
 *   before; 409 `dora.deployment_conflict` when its id holds another);
 * - `PUT /dora/incidents/{incident_id}` creates (201) or replaces (200) an incident;
 * - `GET /dora/metrics?environment=&from=&to=` the four key metrics and MTTA over [from, to),
 *   their levels and the SLO targets' breaches;
 * - `GET /dora/report?environment=&from=&to=` the executive outcome report, deterministic.
 * Bad input is a 400 naming the field: `request.invalid` for a shape the schema refuses (an
 * unknown outcome), `dora.record_invalid` for a rule across fields (deploy before commit,
 * acknowledged or resolved before started).
 */
import { described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import { DoraInputError } from './dora-records.js';
import { DeploymentBody, DeploymentResult, IncidentBody, IncidentParams, IncidentResult, MetricsResponse, ReportQuery, ReportResponse, WindowQuery } from './dora-schemas.js';
import { invalidRecord, type DoraService } from './dora-service.js';

async function asApi<T>(work: () => Promise<T>, prefix: 'body' | 'params' = 'body'): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DoraInputError) throw invalidRecord(error, error.field === 'incident_id' ? 'params' : prefix);
    throw error;
  }
}

export function doraRoutes(app: ServiceApp, deps: { service: DoraService }): void {
  const { service } = deps;

  app.post(
    '/dora/deployments',
    {
      schema: {
        operationId: 'recordDoraDeployment',
        summary: 'Record a deployment: commit and deploy times, environment, pipeline, outcome (idempotent by id)',
        tags: ['dora'],
        body: DeploymentBody,
        response: {
          200: described('The same deployment was recorded before: nothing changed', DeploymentResult),
          201: described('The deployment is recorded', DeploymentResult),
        },
        'x-error-codes': ['dora.record_invalid', 'dora.deployment_conflict'],
      },
    },
    async (request, reply) => {
      const tenant = request.auth!.tenant;
      const result = await asApi(() => service.recordDeployment(tenant, request.body));
      if (result.created) await service.refreshGaugesQuietly([tenant]);
      reply.code(result.created ? 201 : 200);
      return result;
    },
  );

  app.put(
    '/dora/incidents/:incident_id',
    {
      schema: {
        operationId: 'putDoraIncident',
        summary: 'Create or update an incident: severity, start, acknowledgement and resolution times',
        tags: ['dora'],
        params: IncidentParams,
        body: IncidentBody,
        response: {
          200: described('The incident is updated', IncidentResult),
          201: described('The incident is recorded', IncidentResult),
        },
        'x-error-codes': ['dora.record_invalid'],
      },
    },
    async (request, reply) => {
      const result = await asApi(() => service.recordIncident(request.auth!.tenant, request.body, request.params.incident_id));
      reply.code(result.created ? 201 : 200);
      return result;
    },
  );

  app.get(
    '/dora/metrics',
    {
      schema: {
        operationId: 'getDoraMetrics',
        summary: 'Deployment frequency, lead time, change failure rate, time to recovery and acknowledge over [from, to), their levels and SLO breaches',
        tags: ['dora'],
        querystring: WindowQuery,
        response: { 200: described("The tenant's DORA metrics over the window (null where there is nothing to measure)", MetricsResponse) },
        'x-error-codes': ['dora.window_invalid', 'dora.window_too_large'],
      },
    },
    async (request) => {
      const q = request.query;
      const w = service.window(q, true);
      return service.metrics(request.auth!.tenant, { environment: q.environment, ...w });
    },
  );

  app.get(
    '/dora/report',
    {
      schema: {
        operationId: 'getDoraReport',
        summary: 'Executive outcome report: MTTA and MTTR, deployments by pipeline, incidents by severity and one cohort per UTC day (deterministic)',
        tags: ['dora'],
        querystring: ReportQuery,
        response: { 200: described('The report; the same records give the same bytes', ReportResponse) },
        'x-error-codes': ['dora.window_invalid', 'dora.window_too_large'],
      },
    },
    async (request) => {
      const q = request.query;
      const w = service.window(q, false);
      return service.report(request.auth!.tenant, { environment: q.environment, ...w });
    },
  );
}
