import { FakeApiClient } from './testing/fake-api-client.ts';

export { connectionRefused } from './testing/api-error.ts';

// The old name of testing/fake-api-client.ts's FakeApiClient, kept only for manager.test.ts while another change
// reshapes the manager; new tests use FakeApiClient. `failWith` is `failOn` for every call.

/** FakeApiClient, with `failWith` making every call reject. */
export class FakeObjectClient extends FakeApiClient {
  set failWith(error: unknown) {
    this.failOn = error === undefined ? undefined : () => error;
  }
}
