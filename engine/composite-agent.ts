/**
 * Several stages on one thread (Aeron's shared threading mode, Agrona's CompositeAgent): one
 * duty cycle runs each stage's doWork once, in pipeline order, so a record written by one stage
 * is read by the next in the same cycle, with no thread hop and no wake-up between them. The
 * stages keep their own rings, which stay single-producer, single-consumer; they share the
 * thread's one doorbell (workers/topology.ts), so the thread parks on all of their inbound rings
 * at once.
 */
import type { Agent } from './agent.ts';

export class CompositeAgent implements Agent {
  private readonly agents: Agent[];

  constructor(agents: Agent[]) {
    if (agents.length === 0) throw new Error('Condition failed: a composite agent runs at least one agent');
    this.agents = agents;
  }

  doWork(): number {
    const agents = this.agents;
    let work = 0;
    for (let i = 0; i < agents.length; i++) work += agents[i].doWork();
    return work;
  }
}

/** One agent as is; several as a CompositeAgent (no extra call for a dedicated thread). */
export function composeAgents(agents: Agent[]): Agent {
  return agents.length === 1 ? agents[0] : new CompositeAgent(agents);
}
