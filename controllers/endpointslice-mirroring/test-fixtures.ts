export { apiError } from '../runtime/testing/api-error.ts';
export { MemoryStore } from '../runtime/testing/memory-store.ts';
export { type RecordedEvent, RecordingEventRecorder } from '../runtime/testing/recording-event-recorder.ts';
export { testContext } from '../runtime/testing/test-context.ts';

// The shared test doubles this controller's tests use (the fake API client is testing/fake-api-client.ts).
