// Realistic wire-format Pods (a Deployment replica: ~4-5 KB of JSON, about 40 % of it managedFields), for informer
// tests and the memory benchmark. Deterministic: the same index gives the same Pod.

/** Options for {@link makePod}. */
export interface PodFixtureOptions {
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Include metadata.managedFields. Default true. */
  readonly managedFields?: boolean;
}

/** A Pod named `pod-<i>` as the API server would serve it. */
export function makePod(i: number, options: PodFixtureOptions = {}): Record<string, unknown> & { metadata: Record<string, unknown> } {
  const ns = options.namespace ?? 'default';
  const app = `app-${i % 50}`;
  const hash = (0x5f3759df ^ (i * 2654435761)) >>> 0;
  const rs = `${app}-${hash.toString(16).slice(0, 8)}`;
  const name = `pod-${i}`;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const node = `node-${i % 100}`;
  const t0 = '2026-03-01T10:00:00Z';
  const t1 = '2026-03-01T10:00:07Z';
  const metadata: Record<string, unknown> = {
    name,
    generateName: `${rs}-`,
    namespace: ns,
    uid: `0f3c${hash.toString(16).padStart(8, '0')}-1b2c-4d5e-8f90-${String(i).padStart(12, '0')}`,
    resourceVersion: String(1000 + i),
    creationTimestamp: t0,
    labels: { app, 'pod-template-hash': hash.toString(16).slice(0, 10), tier: 'backend', ...options.labels },
    annotations: {
      'kubectl.kubernetes.io/restartedAt': '2026-02-28T09:00:00Z',
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
    },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `rs-uid-${rs}`, controller: true, blockOwnerDeletion: true },
    ],
  };
  if (options.managedFields !== false) {
    metadata.managedFields = [
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        apiVersion: 'v1',
        time: t0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:generateName': {},
            'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {}, 'f:tier': {} },
            'f:annotations': {
              '.': {},
              'f:kubectl.kubernetes.io/restartedAt': {},
              'f:prometheus.io/port': {},
              'f:prometheus.io/scrape': {},
            },
            'f:ownerReferences': { '.': {}, [`k:{"uid":"rs-uid-${rs}"}`]: {} },
          },
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': {
                '.': {},
                'f:env': { '.': {}, 'k:{"name":"LOG_LEVEL"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                'f:image': {},
                'f:imagePullPolicy': {},
                'f:name': {},
                'f:ports': {
                  '.': {},
                  'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} },
                  'k:{"containerPort":9090,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} },
                },
                'f:readinessProbe': { '.': {}, 'f:httpGet': { '.': {}, 'f:path': {}, 'f:port': {}, 'f:scheme': {} } },
                'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
                'f:terminationMessagePath': {},
                'f:terminationMessagePolicy': {},
                'f:volumeMounts': { '.': {}, 'k:{"mountPath":"/etc/config"}': { '.': {}, 'f:mountPath': {}, 'f:name': {} } },
              },
            },
            'f:dnsPolicy': {},
            'f:enableServiceLinks': {},
            'f:restartPolicy': {},
            'f:schedulerName': {},
            'f:securityContext': {},
            'f:terminationGracePeriodSeconds': {},
          },
        },
      },
      {
        manager: 'kubelet',
        operation: 'Update',
        apiVersion: 'v1',
        time: t1,
        fieldsType: 'FieldsV1',
        subresource: 'status',
        fieldsV1: {
          'f:status': {
            'f:conditions': {
              'k:{"type":"ContainersReady"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
              'k:{"type":"Initialized"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
              'k:{"type":"PodReadyToStartContainers"}': {
                '.': {},
                'f:lastProbeTime': {},
                'f:lastTransitionTime': {},
                'f:status': {},
                'f:type': {},
              },
              'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} },
            },
            'f:containerStatuses': {},
            'f:hostIP': {},
            'f:hostIPs': {},
            'f:phase': {},
            'f:podIP': {},
            'f:podIPs': { '.': {}, [`k:{"ip":"${ip}"}`]: { '.': {}, 'f:ip': {} } },
            'f:startTime': {},
          },
        },
      },
    ];
  }
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t1 });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      containers: [
        {
          name: 'app',
          image: `registry.example.com/team/${app}:1.${i % 7}.3`,
          imagePullPolicy: 'IfNotPresent',
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [{ name: 'LOG_LEVEL', value: 'info' }],
          resources: { limits: { memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          readinessProbe: {
            httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' },
            timeoutSeconds: 1,
            periodSeconds: 5,
            successThreshold: 1,
            failureThreshold: 3,
          },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/config' },
            { name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: node,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      volumes: [
        { name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } },
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: [
        condition('PodReadyToStartContainers'),
        condition('Initialized'),
        condition('Ready'),
        condition('ContainersReady'),
        condition('PodScheduled'),
      ],
      hostIP: `192.168.${(i >> 8) % 100}.${i % 100}`,
      hostIPs: [{ ip: `192.168.${(i >> 8) % 100}.${i % 100}` }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: t0,
      containerStatuses: [
        {
          name: 'app',
          state: { running: { startedAt: t1 } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: `registry.example.com/team/${app}:1.${i % 7}.3`,
          imageID: `registry.example.com/team/${app}@sha256:${hash.toString(16).padStart(8, '0').repeat(8)}`,
          containerID: `containerd://${hash.toString(16).padStart(8, '0').repeat(8)}`,
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  };
}
