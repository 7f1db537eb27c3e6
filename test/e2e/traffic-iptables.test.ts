import { describeTrafficSuite } from './traffic-suite.ts';

describeTrafficSuite('iptables', 'operator');
