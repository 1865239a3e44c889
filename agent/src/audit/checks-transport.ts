import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Severity } from '../core/index.js';
import { fail, hostPath, noAgent, pass } from './files.js';
import { probePlaintext, probeWithoutClientCert } from './probe.js';
import type { Check, Evidence } from './types.js';

export const agentTransport: Check = {
  id: 'transport.mqtt',
  title: "The agent's transport requires TLS with a pinned CA, and the broker refuses weaker clients",
  severity: Severity.CRITICAL,
  rationale:
    'Telemetry and remote configuration must not travel, or be accepted, without mutual authentication.',
  remedy:
    'Use an mqtts:// URL with mqtt.ca set to the platform CA, never the development plaintext flag; configure the broker with require_certificate and no plaintext listener.',
  etsi: ['5.5-1', '5.5-2', '5.5-5'],
  iec: ['CR 3.1', 'CR 4.1', 'CR 1.2'],
  async run(ctx) {
    const { agent, probe } = ctx;
    if (!agent) return noAgent(ctx);
    const bad: Evidence[] = [];
    const good: Evidence[] = [];
    const cfg = '/etc/edge-agent/config.json';
    if (!agent.mqttUrl.startsWith('mqtts://'))
      bad.push({ file: cfg, text: `mqtt.url ${agent.mqttUrl} is not TLS` });
    else good.push({ file: cfg, text: `mqtt.url ${agent.mqttUrl}` });
    if (agent.insecurePlaintext)
      bad.push({ file: cfg, text: 'mqtt.insecurePlaintextForDevelopment is true' });
    try {
      const ca = new X509Certificate(readFileSync(hostPath(ctx.root, agent.ca)));
      good.push({ file: agent.ca, text: `pinned CA ${ca.subject.replace(/\n/g, ', ')}` });
    } catch {
      bad.push({ file: agent.ca, text: 'the pinned CA is missing or not a certificate' });
    }
    if (probe) {
      const { host, tlsPort, plaintextPorts, ca, servername, timeoutMs, clock } = probe;
      let caPem = '';
      try {
        caPem = readFileSync(hostPath(ctx.root, ca), 'utf8');
      } catch {
        // reported above
      }
      if (caPem) {
        const noCert = await probeWithoutClientCert(host, tlsPort, caPem, servername, timeoutMs, clock);
        if (noCert === 'accepted')
          bad.push({
            file: `${host}:${tlsPort}`,
            text: 'the broker accepted a TLS client without a certificate',
          });
        else if (noCert !== 'unreachable')
          good.push({ file: `${host}:${tlsPort}`, text: 'a TLS client without a certificate was refused' });
        else good.push({ file: `${host}:${tlsPort}`, text: 'broker unreachable: not probed' });
      }
      for (const port of plaintextPorts) {
        const p = await probePlaintext(host, port, timeoutMs, clock);
        if (p === 'accepted') bad.push({ file: `${host}:${port}`, text: 'the broker offers plaintext MQTT' });
        else
          good.push({
            file: `${host}:${port}`,
            text: p === 'unreachable' ? 'no plaintext listener' : 'no plaintext MQTT',
          });
      }
    }
    return bad.length
      ? fail('the transport can be weakened', bad)
      : pass('TLS required, CA pinned, no plaintext', good);
  },
};
