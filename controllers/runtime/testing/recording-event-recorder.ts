import type { ObjectReference } from '../../../api/core/meta.ts';
import type { EventRecorder } from '../manager-types.ts';

// Test-only: an EventRecorder that keeps what it was given, so tests can assert on the Events a reconcile emits.

/** An Event as recorded by {@link RecordingEventRecorder}. */
export interface RecordedEvent {
  readonly object: Readonly<ObjectReference>;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** Keeps every recorded Event, in order. */
export class RecordingEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(object: Readonly<ObjectReference>, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ object, type, reason, message });
  }
}
