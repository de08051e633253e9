import type { ModulesContainer } from '@nestjs/core';

/**
 * A list shared by every instance of the module within one application (keyed by its modules
 * container, so two applications in one process never mix). Nest constructs every provider before it
 * runs the first `onModuleInit`, so each instance adds its entry in its constructor and sees all of them
 * at init.
 */
export class PerApplicationRegistry<T> {
  private readonly lists = new WeakMap<ModulesContainer, T[]>();

  /** Adds `entry` to the application's list and returns the list (live: later entries appear in it). */
  register(modules: ModulesContainer, entry: T): readonly T[] {
    let list = this.lists.get(modules);
    if (list === undefined) {
      list = [];
      this.lists.set(modules, list);
    }
    list.push(entry);
    return list;
  }
}
