// The deployment files (deploy/) cannot be applied here (no cluster, no Docker daemon): they are parsed
// (PyYAML) and checked for what the README promises — probes on /health, the Service and the
// autoscaler pointing at the Deployment, a grace period longer than the server's, the serve command.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/data.js';

const deploy = path.join(repoRoot, 'deploy');
function yaml(file: string): Record<string, any> {
  const python = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'py-env.mjs'), '--with', 'PyYAML==6.0.3'], { encoding: 'utf8' }).trim();
  return JSON.parse(execFileSync(python, ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file], { encoding: 'utf8' })) as Record<string, any>;
}

describe('deploy/', () => {
  it('Kubernetes: a Deployment with readiness and liveness on /health, a Service and an HPA on CPU that point at it', () => {
    const d = yaml(path.join(deploy, 'kubernetes', 'deployment.yaml'));
    const s = yaml(path.join(deploy, 'kubernetes', 'service.yaml'));
    const h = yaml(path.join(deploy, 'kubernetes', 'hpa.yaml'));
    expect([d.kind, s.kind, h.kind]).toEqual(['Deployment', 'Service', 'HorizontalPodAutoscaler']);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) expect(c[probe].httpGet.path, probe).toBe('/health');
    expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
    expect(s.spec.selector).toEqual(d.spec.template.metadata.labels);
    expect(s.spec.ports[0].targetPort).toBe(c.ports[0].name);
    expect(h.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: d.metadata.name });
    expect(h.spec.metrics[0].resource.name).toBe('cpu');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30); // embedrt serve's default --grace
  });

  it('Dockerfile: runs embedrt serve on 0.0.0.0:8080, not as root', () => {
    const text = fs.readFileSync(path.join(deploy, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^EXPOSE 8080$/m);
    expect(text).toMatch(/^CMD .*dist\/cli\.js serve --model .* --host 0\.0\.0\.0 --port 8080/m);
  });
});
