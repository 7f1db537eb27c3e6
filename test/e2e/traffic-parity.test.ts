import { describeTrafficSuite } from './traffic-suite.ts';

// Data-plane parity: the same suite with kube-controller-manager's endpoint controllers writing the objects.
describeTrafficSuite('nftables', 'kube-controller-manager');
