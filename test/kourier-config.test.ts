/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * config-kourier applied live: the Kubernetes source against the kube-apiserver STAND-IN (no
 * kube-apiserver here) watches the ConfigMap; an edit changes the gateway config in the model at
 * once (and so the listeners Proxima builds), and a key Proxima does not support is reported on
 * every KIngress (Info condition, Ready untouched) and in the log — never silently ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capturedLogger } from './helpers/captured-log.js';
import { buildGatewayListeners } from '../src/xds/resources/listeners.js';
import { eventually, newSource, startStandIn } from './kube/harness.js';

const configKourier = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'config-kourier', namespace: 'knative-serving' },
  data,
});

test('config-kourier is applied live; unsupported keys are reported on the KIngress and in the log', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  const captured = capturedLogger('info');
  const log = captured.log;
  const { source, store } = newSource(url, { isProgrammed: () => true, log });
  t.after(() => source.stop());
  await source.start();
  assert.equal(store.gatewayConfig().enableProxyProtocol, false);

  api.apply(configKourier({ 'enable-proxy-protocol': 'true', 'stream-idle-timeout': '1m', 'enable-cryptomb': 'true' }));
  await eventually(() => store.gatewayConfig().enableProxyProtocol === true);
  assert.equal(store.gatewayConfig().streamIdleTimeoutMs, 60_000);
  const l8080 = buildGatewayListeners(store.routes(), store.gatewayConfig()).find((l) => l.name === 'listener_8080')!.value as any;
  assert.equal(l8080.listener_filters[0].name, 'envoy.filters.listener.proxy_protocol');

  await eventually(async () => {
    await source.refreshStatuses();
    const c = api.get('Ingress', 'hello', 'default')!['status']?.conditions?.find((x: any) => x.type === 'GatewayConfigSupported');
    assert.equal(c?.status, 'False');
    assert.equal(c.severity, 'Info');
    assert.match(c.message, /enable-cryptomb is set but Proxima does not support it yet/);
  });
  assert.equal(api.get('Ingress', 'hello', 'default')!['status'].conditions.find((x: any) => x.type === 'Ready').status, 'True');
  assert.match(captured.text(), /enable-cryptomb is set but Proxima does not support it yet/);

  // Removing the key clears the report.
  api.apply(configKourier({ 'enable-proxy-protocol': 'true' }));
  await eventually(async () => {
    await source.refreshStatuses();
    const conds = api.get('Ingress', 'hello', 'default')!['status'].conditions;
    assert.equal(
      conds.find((x: any) => x.type === 'GatewayConfigSupported'),
      undefined,
    );
  });
});
