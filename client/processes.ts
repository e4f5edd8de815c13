/** Something started by `bindflow dev` that must be stopped on Ctrl-C, in reverse order. */
export interface Service {
  name: string;
  stop(): Promise<void>;
}

export class ServiceGroup {
  private readonly services: Service[] = [];
  private stopping: Promise<void> | null = null;

  add(service: Service): void {
    this.services.push(service);
  }

  stopAll(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        for (const s of [...this.services].reverse()) {
          try {
            await s.stop();
          } catch (err) {
            process.stderr.write(`bindflow: stopping ${s.name} failed: ${(err as Error).message}\n`);
          }
        }
      })();
    }
    return this.stopping;
  }
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (sig: NodeJS.Signals) => {
      if (seen) process.exit(130);
      seen = true;
      resolve(sig);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
