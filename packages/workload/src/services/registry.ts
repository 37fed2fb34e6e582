/** Which routes each workload service serves. */
import type { FastifyInstance } from 'fastify';
import { registerConseiller } from './conseiller.js';
import { registerExcitator } from './excitator.js';
import { registerExportCenter } from './export-center.js';
import { registerOrchestrator } from './orchestrator.js';
import { registerPolicyEngine } from './policy-engine.js';
import { registerSbomService } from './sbom-service.js';
import type { WorkloadRuntime } from './service-host.js';
import { registerTaskRunner } from './task-runner.js';
import type { WorkloadServiceName } from './workload-config.js';

export const SERVICE_ROUTES: Readonly<Record<WorkloadServiceName, (app: FastifyInstance, rt: WorkloadRuntime) => void>> = {
  'sbom-service': registerSbomService,
  conseiller: registerConseiller,
  excitator: registerExcitator,
  'policy-engine': registerPolicyEngine,
  'export-center': registerExportCenter,
  orchestrator: registerOrchestrator,
  'task-runner': registerTaskRunner,
};
