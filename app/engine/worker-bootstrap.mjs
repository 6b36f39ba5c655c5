// Worker threads do not inherit loader hooks: register tsx here, then load the TypeScript worker
// named in workerData. Keeps one code path for dev, tests and production (no separate bundle).
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
