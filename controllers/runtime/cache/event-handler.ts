// What an informer tells its handlers, after its store already holds the new state (so any reconcile triggered from
// a handler sees at least this version).

export interface EventHandler<T> {
  /** A new object, or one seen for the first time after a (re)list. */
  onAdd?(obj: Readonly<T>): void;
  /** A changed object (or a resync, when old and new carry the same resourceVersion). */
  onUpdate?(oldObj: Readonly<T>, newObj: Readonly<T>): void;
  /**
   * A deleted object: its last known state. `finalStateUnknown` is true when the delete was inferred by a relist
   * (the object vanished while the watch was down), as client-go's DeletedFinalStateUnknown tombstone.
   */
  onDelete?(obj: Readonly<T>, finalStateUnknown: boolean): void;
}
