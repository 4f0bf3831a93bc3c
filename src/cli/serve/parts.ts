import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { ModelStore } from '../../model/store.js';
import type { AssignmentEngine } from '../../engine/assignments.js';
import type { AdminServer } from '../../admin/server.js';
import type { ServeListeners } from './listeners.js';
import type { ShutdownStack } from './shutdown.js';

/** What every part of `proxima serve` is started with: the model, the engine, logging and metrics, the admin port, the listeners, and where to register its shutdown. */
export interface ServePartDeps {
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly log: Logger;
  readonly registry: Registry;
  readonly admin: AdminServer;
  readonly listeners: ServeListeners;
  readonly shutdown: ShutdownStack;
}
