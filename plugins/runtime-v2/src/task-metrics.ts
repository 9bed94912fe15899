import { Metrics as V1Metrics } from '@ctrd/api/gen/containerd/cgroups/v1/metrics.js';
import { Metrics as V2Metrics } from '@ctrd/api/gen/containerd/cgroups/v2/metrics.js';
import type { MetricFamily } from '@ctrd/plugin';
import type { Any, PlatformRuntime } from '@ctrd/runtime';

const V1_URL = 'io.containerd.cgroups.v1.Metrics';
const V2_URL = 'io.containerd.cgroups.v2.Metrics';

/** ContainerUsage is the part of a task's cgroup statistics the metrics endpoint reports. */
export interface ContainerUsage {
  memoryBytes: number;
  memoryLimitBytes: number;
  cpuNanoseconds: number;
  pids: number;
}

/**
 * containerUsage reads memory, CPU and pid figures from a shim's Stats answer, whichever cgroup
 * version it speaks; undefined for a payload of another kind. Both versions report the same
 * units (bytes, nanoseconds): v2's microseconds are converted.
 */
export function containerUsage(stats: Any | undefined): ContainerUsage | undefined {
  const url = stats?.typeUrl.replace(/^.*\//, '');
  if (url === V1_URL) {
    const m = V1Metrics.decode(stats!.value);
    return {
      memoryBytes: Number(m.memory?.usage?.usage ?? 0),
      memoryLimitBytes: Number(m.memory?.usage?.limit ?? 0),
      cpuNanoseconds: Number(m.cpu?.usage?.total ?? 0),
      pids: Number(m.pids?.current ?? 0),
    };
  }
  if (url === V2_URL) {
    const m = V2Metrics.decode(stats!.value);
    return {
      memoryBytes: Number(m.memory?.usage ?? 0),
      memoryLimitBytes: Number(m.memory?.usageLimit ?? 0),
      cpuNanoseconds: Number(m.cpu?.usageUsec ?? 0) * 1000,
      pids: Number(m.pids?.current ?? 0),
    };
  }
  return undefined;
}

/**
 * collectTaskMetrics reports the tasks a runtime holds, by namespace, runtime and status, and
 * each running task's cgroup usage labelled by namespace and container id. A task that goes away
 * between listing and asking is skipped.
 */
export async function collectTaskMetrics(runtime: PlatformRuntime): Promise<MetricFamily[]> {
  const tasks: MetricFamily = { name: 'tasks', help: 'Tasks by namespace, runtime and status.', type: 'gauge', samples: [] };
  const memory: MetricFamily = { name: 'container_memory_usage_bytes', help: 'Memory charged to each running container\'s cgroup.', type: 'gauge', samples: [] };
  const limit: MetricFamily = { name: 'container_memory_limit_bytes', help: 'Memory limit of each running container\'s cgroup.', type: 'gauge', samples: [] };
  const cpu: MetricFamily = { name: 'container_cpu_usage_seconds', help: 'CPU time used by each running container, in seconds.', type: 'gauge', samples: [] };
  const pids: MetricFamily = { name: 'container_pids_current', help: 'Processes in each running container.', type: 'gauge', samples: [] };
  const counts = new Map<string, { namespace: string; runtime: string; status: string; n: number }>();
  for (const t of await runtime.tasks()) {
    let status: string;
    try {
      status = (await t.state()).status;
    } catch {
      continue;
    }
    const key = `${t.namespace}\0${t.runtime}\0${status}`;
    const row = counts.get(key) ?? { namespace: t.namespace, runtime: t.runtime, status, n: 0 };
    row.n++;
    counts.set(key, row);
    if (status !== 'running' && status !== 'paused') continue;
    let usage: ContainerUsage | undefined;
    try {
      usage = containerUsage(await t.stats());
    } catch {
      continue;
    }
    if (!usage) continue;
    const labels = { namespace: t.namespace, container_id: t.id };
    memory.samples.push({ labels, value: usage.memoryBytes });
    limit.samples.push({ labels, value: usage.memoryLimitBytes });
    cpu.samples.push({ labels, value: usage.cpuNanoseconds / 1e9 });
    pids.samples.push({ labels, value: usage.pids });
  }
  for (const r of counts.values()) tasks.samples.push({ labels: { namespace: r.namespace, runtime: r.runtime, status: r.status }, value: r.n });
  return [tasks, memory, limit, cpu, pids];
}
