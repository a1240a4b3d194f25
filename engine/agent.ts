/**
 * The unit of work a stage exposes, apart from the thread that runs it (Agrona's Agent):
 * doWork() drains a bounded amount from the stage's inbound rings and returns how much it did.
 * A stage never knows whether a worker thread, an event loop or a deterministic simulation
 * steps it.
 */
export interface Agent {
  /** Does at most a bounded amount of work; returns the number of items handled (0 = idle). */
  doWork(): number;
}
