import { describeTrafficSuite } from './traffic-suite.ts';

describeTrafficSuite('nftables', 'operator');
